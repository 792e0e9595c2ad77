/// Silence bookkeeping for one data-only link whose peer keeps it alive (docs/data-link-liveness.md). The
/// peer's first keepalive arms the watch (a stock PeerJS app sends none and is never watched); from then on
/// anything the peer sends feeds it, and a check finds the link lost once the peer has been silent for
/// `limitMillis`. Pure: every time is the caller's monotonic milliseconds.
public struct LinkWatch: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        /// The peer never sent a keepalive: nothing is known, nothing is decided.
        case unwatched
        case alive
        /// Silent for `silenceMillis` (at least the limit): close the link.
        case lost(silenceMillis: Int64)
    }

    /// How often the owner is expected to call `check`.
    public static let checkEveryMillis: Int64 = 250
    /// A check this long after the previous one means the owner's loop was held up (a pipeline stopping, a
    /// loaded machine): what the peer sent meanwhile may still wait in the queue behind the check, so that
    /// check decides nothing and the next one, a period later, does.
    public static let stalledAfterMillis: Int64 = 1000

    public let limitMillis: Int64
    public private(set) var isArmed = false
    public private(set) var lastHeard: Int64?
    private var lastCheck: Int64?

    public init(limitMillis: Int64) { self.limitMillis = limitMillis }

    /// Something arrived from the peer at `now`; `keepalive`: it was a keepalive, which arms the watch.
    public mutating func heard(at now: Int64, keepalive: Bool) {
        if keepalive { isArmed = true }
        lastHeard = max(lastHeard ?? now, now)
    }

    public mutating func check(at now: Int64) -> Verdict {
        defer { lastCheck = now }
        guard isArmed, let lastHeard else { return .unwatched }
        if let lastCheck, now - lastCheck >= Self.stalledAfterMillis { return .alive }
        let silence = now - lastHeard
        return silence >= limitMillis ? .lost(silenceMillis: silence) : .alive
    }
}
