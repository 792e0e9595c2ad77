import Crypto
import DoorCore

/// The two MACs of a join (docs/security.md#the-join-scheme, steps 3 and 5), HMAC-SHA256 with `RoomKeys.macKey` over a
/// canonical text of newline-separated fields:
///
///     intercom/1 offer  \n <room peer ID> \n <caller peer ID> \n <connectionId> \n <nonce> \n <hex SHA-256(offer SDP)>
///     intercom/1 answer \n <room peer ID> \n <caller peer ID> \n <connectionId> \n <nonce> \n <hex SHA-256(offer SDP)> \n <hex SHA-256(answer SDP)>
///
/// Both cover the SDPs and so their `a=fingerprint` lines: a signaling server that swaps a fingerprint
/// breaks the MAC. The caller's peer ID (the server sets `src`, nobody can forge it) stops another peer from
/// replaying an offer; the nonce, remembered per room, stops a replay by the same peer.
///
/// On the wire: the OFFER's `metadata.proof = {"v":1,"n":<nonce>,"mac":<mac>}` and the ANSWER's
/// `payload.proof = {"v":1,"mac":<mac>}`, nonce 12 bytes and MAC 32 bytes, both unpadded base64url.
public enum JoinMAC {
    public static let version = 1
    public static let nonceBytes = 12

    public struct Binding: Sendable, Equatable {
        public var roomPeerID: String
        public var callerPeerID: String
        public var connectionId: String
        public var nonce: String
        public init(roomPeerID: String, callerPeerID: String, connectionId: String, nonce: String) {
            self.roomPeerID = roomPeerID; self.callerPeerID = callerPeerID
            self.connectionId = connectionId; self.nonce = nonce
        }
    }

    static func offerText(_ b: Binding, offerSDP: String) -> [UInt8] {
        Array(["intercom/1 offer", b.roomPeerID, b.callerPeerID, b.connectionId, b.nonce, hexSHA256(offerSDP)]
            .joined(separator: "\n").utf8)
    }

    static func answerText(_ b: Binding, offerSDP: String, answerSDP: String) -> [UInt8] {
        Array(["intercom/1 answer", b.roomPeerID, b.callerPeerID, b.connectionId, b.nonce, hexSHA256(offerSDP),
               hexSHA256(answerSDP)].joined(separator: "\n").utf8)
    }

    public static func offerMAC(_ keys: RoomKeys, _ binding: Binding, offerSDP: String) -> String {
        Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: offerText(binding, offerSDP: offerSDP),
                                                               using: keys.macKey)))
    }

    public static func answerMAC(_ keys: RoomKeys, _ binding: Binding, offerSDP: String, answerSDP: String) -> String {
        Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(
            for: answerText(binding, offerSDP: offerSDP, answerSDP: answerSDP), using: keys.macKey)))
    }

    /// Constant-time comparison (swift-crypto's `isValidAuthenticationCode`).
    public static func offerMACHolds(_ keys: RoomKeys, _ binding: Binding, offerSDP: String, mac: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: offerText(binding, offerSDP: offerSDP),
                                               using: keys.macKey)
    }

    public static func answerMACHolds(_ keys: RoomKeys, _ binding: Binding, offerSDP: String, answerSDP: String,
                                      mac: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: answerText(binding, offerSDP: offerSDP,
                                                                                answerSDP: answerSDP),
                                               using: keys.macKey)
    }

    /// The `metadata.proof` object of an offer (what the page sends).
    public static func offerProof(nonce: String, mac: String) -> JSONValue {
        ["v": .number(Double(version)), "n": .string(nonce), "mac": .string(mac)]
    }

    /// The `payload.proof` object of an answer.
    public static func answerProof(mac: String) -> JSONValue {
        ["v": .number(Double(version)), "mac": .string(mac)]
    }

    static func hexSHA256(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(text.utf8)) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
