/// One ring at the door and what became of it, as the visit log keeps it and the paired browsers list it.
public struct Visit: Sendable, Equatable {
    public enum Outcome: String, Sendable, CaseIterable, Codable {
        case answered, missed, declined
    }

    /// Who took the call.
    public enum Answerer: Sendable, Equatable, CustomStringConvertible {
        /// A paired browser, by the name it paired with.
        case paired(name: String)
        /// Someone who opened the room's visitor link (not paired, so no name).
        case visitorLink

        public var description: String {
            switch self {
            case .paired(let name): return name
            case .visitorLink: return "visitor link"
            }
        }
    }

    /// 12 lowercase hex digits; also the clip's file name stem.
    public var id: String
    /// Position in the log, increasing with every ring: the order of visits, whatever the wall clock did.
    public var sequence: Int
    /// Wall-clock milliseconds since the epoch when the bell was pressed: for display only.
    public var ringAt: Int64
    /// nil while the visit is still going on, or when the door stopped before it ended (power cut).
    public var outcome: Outcome?
    public var answeredBy: Answerer?
    /// From the ring to the end of the visit, on the monotonic clock; nil while open.
    public var durationMillis: Int64?
    /// File name of the clip in the visits directory, or nil (none recorded, pruned, or deleted).
    public var clip: String?

    public init(id: String, sequence: Int, ringAt: Int64, outcome: Outcome? = nil, answeredBy: Answerer? = nil,
                durationMillis: Int64? = nil, clip: String? = nil) {
        self.id = id
        self.sequence = sequence
        self.ringAt = ringAt
        self.outcome = outcome
        self.answeredBy = answeredBy
        self.durationMillis = durationMillis
        self.clip = clip
    }

    /// Ids the log hands out; anything else from a browser or the control socket is refused before it names a file.
    public static func isValidID(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value & 0xFFFF_FFFF_FFFF, radix: 16)
        return String(repeating: "0", count: 12 - hex.count) + hex
    }
}
