/// The bookkeeping of one call the door placed through its home ID (`ctl call`, the machine's `dialing`
/// phase): whether the peer answered, and if not, why the attempt ended. A value state machine beside
/// `CallStateMachine`: events in, actions out, no I/O and no clock. The device (Sources/Door/Device+Dial.swift)
/// carries each action out on the call's session and the home ID's registration.
public struct DialAttempt: Sendable, Equatable {
    public typealias CallID = CallStateMachine.CallID

    public enum Event: Sendable, Equatable {
        /// The peer's ANSWER arrived.
        case answer(sdp: String)
        /// The session could not use that answer.
        case answerUnusable
        /// The peer hung this call up over signaling (LEAVE, reason `hangup`, this connectionId).
        case peerHungUp
        /// The peer is gone: EXPIRE (`offline`, not registered) or a LEAVE with its reason (`left` if none).
        case peerGone(reason: String)
        /// The call's session ended; `failed`: it ended with an error of its own.
        case sessionEnded(failed: Bool, at: Int64)
    }

    public enum Action: Sendable, Equatable {
        /// Hand the answer to the session; once it took it, the state machine hears `dialAnswered`.
        case applyAnswer(sdp: String)
        /// The state machine hears the call ended before an answer.
        case endCall(CallStateMachine.EndedBy)
        /// Stop the session.
        case hangUp
        /// Stop the session as hung up by the peer.
        case endAsHungUpByPeer
        /// Tell the peer's page to stop ringing: LEAVE, reason `cancelled` (PeerJS has no cancel).
        case sendCancel
        /// The attempt ended unanswered, and this is why (`no-answer`, `offline`, `left`, `hangup`, …).
        case reportUnanswered(why: String)
    }

    public let call: CallID
    /// When the machine stops waiting for the answer.
    public let deadline: Int64
    /// The OFFER's `metadata`.
    public let metadata: JSONValue
    /// The peer's answer, once it came and was usable.
    public private(set) var answerSDP: String?
    /// Why it ended before an answer, when the server or the peer said so.
    public private(set) var failure: String?

    public var isAnswered: Bool { answerSDP != nil }

    public init(call: CallID, deadline: Int64, metadata: JSONValue) {
        self.call = call
        self.deadline = deadline
        self.metadata = metadata
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .answer(let sdp):
            guard answerSDP == nil else { return [] }
            answerSDP = sdp
            return [.applyAnswer(sdp: sdp)]
        case .answerUnusable:
            answerSDP = nil
            failure = "bad answer"
            return [.hangUp]
        case .peerHungUp:
            guard !isAnswered else { return [.endAsHungUpByPeer] }
            failure = "hangup"
            return [.endCall(.remote), .endAsHungUpByPeer]
        case .peerGone(let reason):
            // An answered call ends as the peer's hang-up, as a LEAVE that names it does (one rule for LEAVE).
            guard !isAnswered else { return [.endAsHungUpByPeer] }
            failure = reason
            return [.endCall(.remote), .hangUp]
        case .sessionEnded(let failed, let at):
            guard !isAnswered else { return [] }
            let why = failure ?? (at >= deadline ? "no-answer" : failed ? "failed" : "cancelled")
            return (failure == nil ? [.sendCancel] : []) + [.reportUnanswered(why: why)]
        }
    }
}
