/// What the core knows about an offer when it decides between "proved the room's secret" and "knock".
/// Nothing in it is logged: `metadata` may carry a MAC (notes/security.md §1.4).
public struct JoinOffer: Sendable, Equatable {
    public var call: CallStateMachine.CallID
    /// The room the offer was addressed to.
    public var roomCode: String
    /// The offer SDP text, as the caller sent it.
    public var sdp: String
    /// The PeerJS OFFER payload's `metadata`, chosen by the caller.
    public var metadata: JSONValue?

    public init(call: CallStateMachine.CallID, roomCode: String, sdp: String, metadata: JSONValue?) {
        self.call = call; self.roomCode = roomCode; self.sdp = sdp; self.metadata = metadata
    }
}

/// Decides whether an offer proves the open room's secret, before any media object exists. The answer becomes
/// `CallStateMachine.Event.offer(_, proved:)`; what a proved caller or a knock may do is the machine's
/// policy (`knocksNeedAnswer`, `autoAcceptProvenCallers`), not the verifier's.
///
/// The per-ring secret and its MAC check are the security work (issue 9); until then `KnockVerifier` is used.
public protocol JoinVerifier: Sendable {
    func proves(_ offer: JoinOffer) -> Bool
}

/// The placeholder: no room has a secret yet, so nobody can prove one and every offer is a knock. With the
/// machine's `knocksNeedAnswer` off, knocks are answered like proved callers (the code alone is enough).
public struct KnockVerifier: JoinVerifier {
    public init() {}
    public func proves(_ offer: JoinOffer) -> Bool { false }
}
