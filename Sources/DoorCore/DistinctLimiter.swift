/// At most `limit` distinct items per key within `windowMillis`: an item already seen from the key inside the
/// window costs nothing again. Keys are bounded (`maxKeys`; the key seen longest ago is forgotten first), so
/// a flood of keys cannot grow it. Time is passed in (`now`, ms).
///
/// The built-in server counts, per address, the distinct room-code IDs it was asked to reach: someone who
/// types a code or two is never held back, someone who walks through the 100,000 codes is.
public struct DistinctLimiter<Key: Hashable & Sendable, Item: Hashable & Sendable>: Sendable {
    public let limit: Int
    public let windowMillis: Int64
    public let maxKeys: Int
    private var seen: [Key: [Item: Int64]] = [:]

    public init(limit: Int, windowMillis: Int64, maxKeys: Int = 4096) {
        self.limit = max(0, limit); self.windowMillis = max(1, windowMillis); self.maxKeys = max(1, maxKeys)
    }

    /// True when `item` was seen from `key` within the window or fits under the limit (then it is counted).
    public mutating func allow(_ key: Key, _ item: Item, now: Int64) -> Bool {
        var items = seen[key] ?? [:]
        items = items.filter { $0.value > now - windowMillis }
        if items[item] != nil {
            seen[key] = items
            return true
        }
        guard items.count < limit else {
            seen[key] = items
            return false
        }
        items[item] = now
        if seen[key] == nil, seen.count >= maxKeys { forgetOldest(now: now) }
        seen[key] = items
        return true
    }

    public var trackedKeys: Int { seen.count }

    private mutating func forgetOldest(now: Int64) {
        seen = seen.filter { $0.value.values.contains { $0 > now - windowMillis } }
        guard seen.count >= maxKeys else { return }
        if let oldest = seen.min(by: { ($0.value.values.max() ?? 0) < ($1.value.values.max() ?? 0) })?.key {
            seen[oldest] = nil
        }
    }
}
