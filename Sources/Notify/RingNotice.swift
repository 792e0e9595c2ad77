/// What every target is told about a ring: which door, the room's code and join link, and when.
public struct RingNotice: Sendable, Equatable {
    public var doorName: String
    public var code: String
    /// The join link. It is a bearer capability (and will carry the room secret): it goes into request
    /// bodies for the configured targets only, never into a log line.
    public var link: String
    /// Milliseconds since the epoch.
    public var timeMillis: Int64
    /// When the room closes unanswered (ms since the epoch), if known: paired browsers' service workers
    /// stop showing a ring that is over.
    public var expiresAtMillis: Int64?
    /// The id of the ring's still (`RingPicture.id`) for a paired browser to ask for; nil: no picture.
    public var pictureID: String?

    public init(doorName: String, code: String, link: String, timeMillis: Int64, expiresAtMillis: Int64? = nil) {
        self.doorName = doorName
        self.code = code
        self.link = link
        self.timeMillis = timeMillis
        self.expiresAtMillis = expiresAtMillis
    }

    /// `2026-11-20T08:15:02Z`: the time in UTC, as RFC 3339 writes it.
    public var timeText: String {
        let seconds = timeMillis >= 0 ? timeMillis / 1000 : (timeMillis - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days since 1970-01-01 to a civil date (the proleptic Gregorian calendar, in 400-year eras).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
    }
}
