/// How long to wait before trying a target again: doubling from `initialMillis`, at most `maximumMillis`.
public struct Backoff: Sendable, Equatable {
    public var initialMillis: UInt32 = 500
    public var maximumMillis: UInt32 = 30_000

    public init(initialMillis: UInt32 = 500, maximumMillis: UInt32 = 30_000) {
        self.initialMillis = initialMillis
        self.maximumMillis = maximumMillis
    }

    /// The wait after failed attempt number `attempt` (1 for the first try).
    public func delayMillis(afterAttempt attempt: Int) -> UInt32 {
        let doublings = min(max(attempt - 1, 0), 16)
        let delay = UInt64(initialMillis) << UInt64(doublings)
        return UInt32(min(delay, UInt64(maximumMillis)))
    }
}
