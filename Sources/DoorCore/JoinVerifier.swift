/// What the door knows about an offer when it decides between "proved the room's secret", "knock" and
/// "forged". Nothing in it is logged: `metadata` carries a MAC (docs/security.md#the-join-scheme).
public struct JoinOffer: Sendable, Equatable {
    public var call: CallStateMachine.CallID
    /// The door's peer ID the offer was addressed to (the room's secret peer ID, or its knock peer ID).
    public var addressedTo: String
    /// The offer SDP text, exactly as the caller sent it (the MAC covers these bytes).
    public var sdp: String
    /// The PeerJS OFFER payload's `metadata`, chosen by the caller.
    public var metadata: JSONValue?

    public init(call: CallStateMachine.CallID, addressedTo: String, sdp: String, metadata: JSONValue?) {
        self.call = call; self.addressedTo = addressedTo; self.sdp = sdp; self.metadata = metadata
    }
}

/// A verifier's verdict on one offer.
public enum JoinProof: Sendable, Equatable {
    /// The offer carries no proof: a knock (what happens to it is the machine's policy).
    case absent
    /// The offer proves the room's secret.
    case valid
    /// The offer claims a proof that does not hold (wrong MAC, replayed nonce, malformed proof, oversized):
    /// drop it without a word — no answer, no ICE candidate, no media object. `reason` is for counters and
    /// debug logs and never holds caller data.
    case invalid(reason: String)
}

/// Decides, before any media object exists, whether an offer proves the open room's secret. `.absent` and
/// `.valid` become `CallStateMachine.Event.offer(_, proved:)`; `.invalid` never reaches the machine. What a
/// proved caller or a knock may do is the machine's policy (`knocksNeedAnswer`, `autoAcceptProvenCallers`).
///
/// A verifier belongs to one room and remembers what it has seen (nonces), hence `mutating`.
public protocol JoinVerifier: Sendable {
    mutating func verify(_ offer: JoinOffer) -> JoinProof
}
