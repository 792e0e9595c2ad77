/// At most `limit` events per `windowMillis` for each key (a sliding window of timestamps), with a bounded
/// number of keys so a flood of distinct keys cannot grow it: when `maxKeys` are tracked, the key seen
/// longest ago is forgotten. Time is passed in (`now`, ms), so it is tested without sleeping.
///
/// Used where the network reaches the door: offers per peer, knocks per minute, forged proofs per minute.
public struct RateLimiter<Key: Hashable & Sendable>: Sendable {
    public let limit: Int
    public let windowMillis: Int64
    public let maxKeys: Int
    private var events: [Key: [Int64]] = [:]
    /// How many events were refused since the start (for the control socket and the log summary).
    public private(set) var refused = 0

    public init(limit: Int, windowMillis: Int64, maxKeys: Int = 1024) {
        self.limit = max(0, limit); self.windowMillis = max(1, windowMillis); self.maxKeys = max(1, maxKeys)
    }

    /// Counts one event for `key` at `now`; false (and not counted) when the key is over its limit.
    public mutating func allow(_ key: Key, now: Int64) -> Bool {
        var times = events[key] ?? []
        times.removeAll { $0 <= now - windowMillis }
        guard times.count < limit else {
            events[key] = times
            refused += 1
            return false
        }
        times.append(now)
        if events[key] == nil, events.count >= maxKeys { forgetOldest(now: now) }
        events[key] = times
        return true
    }

    public var trackedKeys: Int { events.count }

    private mutating func forgetOldest(now: Int64) {
        events = events.filter { $0.value.contains { $0 > now - windowMillis } }
        guard events.count >= maxKeys else { return }
        if let oldest = events.min(by: { ($0.value.last ?? 0) < ($1.value.last ?? 0) })?.key { events[oldest] = nil }
    }
}
