/// What a picture file says about itself before it is decoded: its kind and size, read from the PNG `IHDR`
/// chunk or the JPEG start-of-frame segment. A picture sent to the door is checked with this first, so that
/// a small file that claims a huge picture (a decompression bomb) is refused before a decoder allocates it.
public struct ImageHeader: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case jpeg = "image/jpeg"
        case png = "image/png"
    }

    public var kind: Kind
    public var width: Int
    public var height: Int

    public init(kind: Kind, width: Int, height: Int) {
        self.kind = kind
        self.width = width
        self.height = height
    }

    /// The header of `bytes`, or nil when they are not a PNG or JPEG with a usable size.
    public init?(_ bytes: [UInt8]) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            // The first chunk must be IHDR: length (4), "IHDR", width (4), height (4), big-endian.
            guard bytes.count >= 24, bytes[12..<16].elementsEqual(Array("IHDR".utf8)) else { return nil }
            self.init(kind: .png, width: Self.bigEndian(bytes, 16, 4), height: Self.bigEndian(bytes, 20, 4))
        } else if bytes.starts(with: [0xFF, 0xD8]) {
            guard let (width, height) = Self.jpegSize(bytes) else { return nil }
            self.init(kind: .jpeg, width: width, height: height)
        } else {
            return nil
        }
        guard width > 0, height > 0 else { return nil }
    }

    private static func bigEndian(_ bytes: [UInt8], _ at: Int, _ count: Int) -> Int {
        bytes[at..<(at + count)].reduce(0) { $0 << 8 | Int($1) }
    }

    /// Walks the JPEG's segments to the first start-of-frame (SOF0…SOF15 except DHT, JPG and DAC).
    private static func jpegSize(_ bytes: [UInt8]) -> (Int, Int)? {
        var at = 2
        while at + 9 < bytes.count {
            guard bytes[at] == 0xFF else { return nil }
            let marker = bytes[at + 1]
            if marker == 0xFF { at += 1; continue }  // fill bytes
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { at += 2; continue }
            let length = bigEndian(bytes, at + 2, 2)
            guard length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                return (bigEndian(bytes, at + 7, 2), bigEndian(bytes, at + 5, 2))
            }
            if marker == 0xDA { return nil }  // scan data before any frame header
            at += 2 + length
        }
        return nil
    }
}
