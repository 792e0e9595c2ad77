/// The `visits:` config section: whether rings are logged and clipped, and how much the log may keep.
/// The config reader fills it from the file and calls `validate()`; errors name the dotted key.
public struct VisitSettings: Sendable, Equatable {
    /// `visits.enabled`: log rings at all.
    public var enabled = true
    /// `visits.max_bytes`: clips plus the log file together; the oldest clips go first when it is exceeded.
    public var maxBytes: Int64 = 500_000_000
    /// `visits.max_age_days`: visits (and their clips) older than this are forgotten.
    public var maxAgeDays = 30
    /// `visits.clip_seconds`: length of the clip recorded from the press of a missed visit; 0 = no clips.
    public var clipSeconds = 20
    /// `visits.record_calls`: also record answered calls whole, with the caller's audio. Off by default:
    /// recording a conversation needs the consent of the people in it in many places.
    public var recordCalls = false
    /// `visits.call_max_seconds`: the longest call recording when `record_calls` is on.
    public var callMaxSeconds = 600
    /// `visits.max_phones`: how many paired browsers may be on one visit (the first to answer and those who
    /// join); 1 keeps today's one phone per call (docs/household.md).
    public var maxPhones = 3

    public static let keys = ["enabled", "max_bytes", "max_age_days", "clip_seconds", "record_calls", "call_max_seconds", "max_phones"]
    public static let maxBytesRange: ClosedRange<Int64> = 1_000_000...1_000_000_000_000
    public static let maxAgeRange = 1...3650
    public static let clipSecondsRange = 0...300
    public static let callMaxSecondsRange = 10...7200
    public static let maxPhonesRange = 1...6

    public init() {}

    /// The first setting out of range, as the error the config reader prints (`config: visits.max_bytes: …`).
    public func validate(section: String = "visits") throws(ConfigurationError) {
        func fail(_ key: String, _ message: String) -> ConfigurationError {
            ConfigurationError(.badValue, key: section + "." + key, line: nil, message)
        }
        guard Self.maxBytesRange.contains(maxBytes) else {
            throw fail("max_bytes", "must be between 1000000 (1 MB) and 1000000000000 (1 TB) bytes, not \(maxBytes)")
        }
        guard Self.maxAgeRange.contains(maxAgeDays) else {
            throw fail("max_age_days", "must be between 1 and 3650 days, not \(maxAgeDays)")
        }
        guard Self.clipSecondsRange.contains(clipSeconds) else {
            throw fail("clip_seconds", "must be between 0 (no clips) and 300 seconds, not \(clipSeconds)")
        }
        guard Self.callMaxSecondsRange.contains(callMaxSeconds) else {
            throw fail("call_max_seconds", "must be between 10 and 7200 seconds, not \(callMaxSeconds)")
        }
        // A clip that cannot fit would be pruned the moment it ends; 2 Mbit/s is the door's highest video bitrate.
        let longest = Int64(recordCalls ? max(clipSeconds, callMaxSeconds) : clipSeconds)
        let needed = longest * 2_000_000 / 8
        guard maxBytes >= needed else {
            throw fail("max_bytes", "is \(maxBytes) bytes, less than one \(longest)-second recording needs "
                       + "(about \(needed) bytes at 2 Mbit/s); raise it or shorten "
                       + (recordCalls && callMaxSeconds > clipSeconds ? "visits.call_max_seconds" : "visits.clip_seconds"))
        }
    }
}
