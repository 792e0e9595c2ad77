import DoorCore
import Testing

@Suite struct ImageHeaderTests {
    /// A PNG's signature and IHDR (the rest of the file does not matter to the header).
    static func png(width: UInt32, height: UInt32) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + be(width) + be(height)
            + [8, 6, 0, 0, 0, 0, 0, 0, 0]
    }

    /// SOI, an APP0 segment, then SOF0 with the size.
    static func jpeg(width: Int, height: Int) -> [UInt8] {
        [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0xFF, 0xC0, 0x00, 0x11, 0x08,
         UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 0x03] + [UInt8](repeating: 0, count: 12)
    }

    @Test func pngAndJPEGSizesAreRead() {
        #expect(ImageHeader(Self.png(width: 1024, height: 768)) == ImageHeader(kind: .png, width: 1024, height: 768))
        #expect(ImageHeader(Self.jpeg(width: 640, height: 480)) == ImageHeader(kind: .jpeg, width: 640, height: 480))
    }

    @Test func otherBytesAreNoPicture() {
        #expect(ImageHeader(Array("GIF89a....".utf8)) == nil)
        #expect(ImageHeader(Array("%PDF-1.7 not a picture".utf8)) == nil)
        #expect(ImageHeader(Self.png(width: 0, height: 10)) == nil)
        #expect(ImageHeader(Array(Self.png(width: 10, height: 10).prefix(20))) == nil)
        #expect(ImageHeader([0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x04, 0, 0, 0, 0, 0, 0]) == nil)
        #expect(ImageHeader([]) == nil)
    }
}
