/// Remote ICE candidates held until whatever applies them exists: a call's record before its session (the
/// OFFER waits for the gate or a person), a session before its remote description is set, a data OFFER held
/// while its call waits to be let in. One type and one limit for all of them, so a candidate is held in one
/// place at a time and a peer cannot make any of them grow without bound.
public struct CandidateBuffer<Candidate> {
    /// At most this many per connection; the signaling limits drop candidates past the same number.
    public static var limit: Int { CandidateLimit.perConnection }

    public private(set) var held: [Candidate] = []

    public init() {}

    /// Holds `candidate`; false (and not held) when the buffer is full.
    @discardableResult
    public mutating func hold(_ candidate: Candidate) -> Bool {
        guard held.count < Self.limit else { return false }
        held.append(candidate)
        return true
    }

    /// Everything held, oldest first; the buffer is empty afterwards.
    public mutating func drain() -> [Candidate] {
        defer { held = [] }
        return held
    }

    public mutating func removeAll() { held = [] }

    public var isEmpty: Bool { held.isEmpty }
    public var count: Int { held.count }
}

/// The one candidate limit (per PeerJS connection) shared by the signaling limits and every `CandidateBuffer`.
public enum CandidateLimit {
    public static let perConnection = 64
}
