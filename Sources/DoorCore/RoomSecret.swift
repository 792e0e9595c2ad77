/// The per-ring secret `k` (docs/security.md#the-join-scheme): 128 bits from the system CSPRNG
/// (`SystemRandomNumberGenerator`: getrandom(2) on Linux). It lives in RAM only, travels only in the
/// fragment of the join link (`#k=…`, which browsers never send to a server), and is dropped when the room
/// closes. Printing it shows `k=…`, never the bytes.
public struct RoomSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public static let byteCount = 16

    public let bytes: [UInt8]

    /// nil unless exactly `byteCount` bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    @Sendable public static func random() -> RoomSecret {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: byteCount)
        for index in bytes.indices { bytes[index] = UInt8.random(in: .min ... .max, using: &generator) }
        return RoomSecret(bytes: bytes)!
    }

    /// The form in the link: unpadded base64url (RFC 4648 §5), 22 characters.
    public var base64url: String { Base64URL.encode(bytes) }

    public init?(base64url text: String) {
        guard let bytes = Base64URL.decode(text) else { return nil }
        self.init(bytes: bytes)
    }

    public var description: String { "k=…" }
    public var debugDescription: String { "RoomSecret(k=…)" }
}

/// Unpadded base64url (RFC 4648 §5), as the web page's `js/room-proof.js` writes it.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let word = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(word >> 18 & 63)])
            out.append(alphabet[Int(word >> 12 & 63)])
            if index + 1 < bytes.count { out.append(alphabet[Int(word >> 6 & 63)]) }
            if index + 2 < bytes.count { out.append(alphabet[Int(word & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for any character outside the alphabet, padding, or a length no encoding produces.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 != 1, chars.count <= 4096 else { return nil }
        var values: [UInt32] = []
        values.reserveCapacity(chars.count)
        for c in chars {
            switch c {
            case 65...90: values.append(UInt32(c - 65))
            case 97...122: values.append(UInt32(c - 97 + 26))
            case 48...57: values.append(UInt32(c - 48 + 52))
            case 45: values.append(62)
            case 95: values.append(63)
            default: return nil
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let n = min(4, values.count - index)
            var word: UInt32 = 0
            for i in 0..<4 { word = word << 6 | (i < n ? values[index + i] : 0) }
            out.append(UInt8(word >> 16 & 255))
            if n > 2 { out.append(UInt8(word >> 8 & 255)) }
            if n > 3 { out.append(UInt8(word & 255)) }
            // Non-canonical trailing bits would let two texts name one secret.
            if n == 2, word & 0xFFFF != 0 { return nil }
            if n == 3, word & 0xFF != 0 { return nil }
            index += 4
        }
        return out
    }
}
