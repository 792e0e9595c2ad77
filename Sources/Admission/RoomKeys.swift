import Crypto
import DoorCore

/// What a room's secret `k` gives (docs/security.md#the-join-scheme), computed the same way by the web page
/// (`js/room-proof.js`, WebCrypto):
/// * the room's peer ID suffix: lowercase base32 of HMAC-SHA256(k, "peer-id"), first 26 characters
///   (130 bits): nothing to enumerate, and not derived from the 5-digit code;
/// * the MAC key: HKDF-SHA256(k, salt "intercom/1", info "mac"), 32 bytes.
///
/// `SymmetricKey` keeps its bytes in memory that swift-crypto zeroes when the last copy goes.
// @unchecked: `SymmetricKey` is an immutable value (its storage is never written after init) that swift-crypto
// 3.x does not mark Sendable on Linux.
public struct RoomKeys: @unchecked Sendable {
    public static let peerIDSuffixLength = 26

    public let peerIDSuffix: String
    let macKey: SymmetricKey

    public init(secret: RoomSecret) {
        let k = SymmetricKey(data: secret.bytes)
        let tag = HMAC<SHA256>.authenticationCode(for: Array("peer-id".utf8), using: k)
        peerIDSuffix = String(Base32.lowercase(Array(tag)).prefix(Self.peerIDSuffixLength))
        macKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: k, salt: Array("intercom/1".utf8),
                                        info: Array("mac".utf8), outputByteCount: 32)
    }

    /// `prefix` + suffix, e.g. `intercom-` + 26 characters.
    public func roomPeerID(prefix: String) -> String { prefix + peerIDSuffix }
}

/// RFC 4648 base32 in lowercase, unpadded (peer IDs must match `[A-Za-z0-9]`, and lowercase reads better).
enum Base32 {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func lowercase(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int(buffer >> UInt32(bits - 5) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
