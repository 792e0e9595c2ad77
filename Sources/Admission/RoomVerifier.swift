import DoorCore

/// The open room's `JoinVerifier`: checks an offer's `metadata.proof` against the room's keys before any
/// media object exists. Cheap and in this order: proof present → its shape and sizes → SDP size → nonce not
/// seen in this room → MAC (constant time). Holds the room's keys; dropping it (the room closed) drops them.
public struct RoomVerifier: JoinVerifier {
    /// The SDP size SDPOffer accepts (Sources/Media); a proved offer must be answerable.
    public static let maxSDPBytes = 32 * 1024
    /// Nonces remembered per room; a room sees a handful of real offers, so this bounds only a flood.
    public static let maxNonces = 4096

    public let keys: RoomKeys
    public let roomPeerID: String
    private var seenNonces: Set<String> = []

    public init(keys: RoomKeys, roomPeerID: String) {
        self.keys = keys; self.roomPeerID = roomPeerID
    }

    public mutating func verify(_ offer: JoinOffer) -> JoinProof {
        guard let proof = offer.metadata?["proof"] else { return .absent }
        guard case .object(let fields) = proof, fields.count <= 3, fields["v"]?.numberValue == Double(JoinMAC.version),
              let nonce = fields["n"]?.stringValue, let nonceBytes = Base64URL.decode(nonce),
              nonceBytes.count == JoinMAC.nonceBytes,
              let macText = fields["mac"]?.stringValue, let mac = Base64URL.decode(macText), mac.count == 32
        else { return .invalid(reason: "malformed proof") }
        guard offer.sdp.utf8.count <= Self.maxSDPBytes else { return .invalid(reason: "SDP too large") }
        guard !seenNonces.contains(nonce) else { return .invalid(reason: "replayed nonce") }
        guard seenNonces.count < Self.maxNonces else { return .invalid(reason: "too many offers in this room") }
        // An offer sent to the knock peer ID binds that ID, and so never holds for a proof made for the room.
        let binding = JoinMAC.Binding(roomPeerID: roomPeerID, callerPeerID: offer.call.peer,
                                      connectionId: offer.call.connectionId, nonce: nonce)
        guard offer.addressedTo == roomPeerID, JoinMAC.offerMACHolds(keys, binding, offerSDP: offer.sdp, mac: mac)
        else { return .invalid(reason: "wrong MAC") }
        seenNonces.insert(nonce)
        return .valid
    }

    /// The `payload.proof` for the ANSWER to a proved offer: binds the answer SDP to the offer.
    public func answerProof(call: CallStateMachine.CallID, nonce: String, offerSDP: String, answerSDP: String) -> JSONValue {
        let binding = JoinMAC.Binding(roomPeerID: roomPeerID, callerPeerID: call.peer,
                                      connectionId: call.connectionId, nonce: nonce)
        return JoinMAC.answerProof(mac: JoinMAC.answerMAC(keys, binding, offerSDP: offerSDP, answerSDP: answerSDP))
    }

    /// The nonce of a proof (after `verify` said `.valid`).
    public static func nonce(in metadata: JSONValue?) -> String? { metadata?["proof"]?["n"]?.stringValue }
}
