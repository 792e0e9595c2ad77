/// The last few rings' pictures, kept in memory for a while (docs/ring-picture.md#a-page-opened-from-a-push):
/// a Web Push message carries only a picture's id, and the page the notification opens asks the door for it
/// over a proved data connection, maybe minutes after the ring. Nothing here touches the disk.
///
/// Bounded both ways: at most `capacity` pictures (the oldest goes first) and none older than `maxAgeMillis`
/// (by the monotonic clock, so a clock step neither keeps nor drops one).
public struct RingPictureShelf: Sendable {
    struct Entry: Sendable {
        var id: String
        var jpeg: [UInt8]
        var keptAt: Int64
    }

    /// Four rings: a busy doorstep's last minutes; a picture is a few tens of KB.
    public static let defaultCapacity = 4
    /// Long enough for someone to take out their phone and tap a notification, short enough that a
    /// doorstep picture does not linger in memory.
    public static let defaultMaxAgeMillis: Int64 = 15 * 60 * 1000

    public let capacity: Int
    public let maxAgeMillis: Int64
    private var entries: [Entry] = []

    public init(capacity: Int = Self.defaultCapacity, maxAgeMillis: Int64 = Self.defaultMaxAgeMillis) {
        self.capacity = max(1, capacity)
        self.maxAgeMillis = max(0, maxAgeMillis)
    }

    /// How many pictures are held (after the last prune).
    public var count: Int { entries.count }

    /// Keeps `jpeg` under `id` (a picture kept again under the same id replaces the first), dropping the
    /// oldest beyond `capacity`. An empty picture is not kept.
    public mutating func keep(id: String, jpeg: [UInt8], now: Int64) {
        prune(now: now)
        entries.removeAll { $0.id == id }
        guard !jpeg.isEmpty else { return }
        entries.append(Entry(id: id, jpeg: jpeg, keptAt: now))
        if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
    }

    /// The picture kept under `id`, unless it is gone (too old, pushed out, never kept).
    public mutating func picture(id: String, now: Int64) -> [UInt8]? {
        prune(now: now)
        return entries.first { $0.id == id }?.jpeg
    }

    /// Forgets pictures older than `maxAgeMillis`.
    public mutating func prune(now: Int64) {
        entries.removeAll { now - $0.keptAt > maxAgeMillis }
    }

    /// Whether `id` can name a ring picture: the door's ids are 12 base64url characters; anything a browser
    /// sends is checked before it is looked up or logged.
    public static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                || $0 == 0x2D || $0 == 0x5F }
    }
}
