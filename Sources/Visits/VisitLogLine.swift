import FoundationEssentials

/// One line of `visits.jsonl`: an event about one visit. The log is the fold of its lines in order, so a
/// visit's record is only ever appended to, never rewritten in place (a power cut tears at most the last line).
struct VisitLogLine: Codable, Equatable {
    enum Event: String, Codable {
        /// The bell was pressed: `id`, `seq`, `at`.
        case ring
        /// A clip of the visit started: `file`.
        case clip
        /// The visit ended: `outcome`, `by`/`by_name`, `duration_ms`.
        case end
        /// The visit's clip was removed (pruned for space, or deleted by a browser).
        case dropClip = "drop_clip"
        /// The visit was deleted or aged out.
        case delete
    }

    var event: Event
    var id: String
    var seq: Int?
    var at: Int64?
    var file: String?
    var outcome: Visit.Outcome?
    /// `paired` or `link`.
    var by: String?
    var byName: String?
    var durationMillis: Int64?

    enum CodingKeys: String, CodingKey {
        case event = "e", id, seq, at, file, outcome, by
        case byName = "by_name"
        case durationMillis = "duration_ms"
    }

    init(_ event: Event, id: String) {
        self.event = event
        self.id = id
    }

    static func ring(_ visit: Visit) -> VisitLogLine {
        var line = VisitLogLine(.ring, id: visit.id)
        line.seq = visit.sequence
        line.at = visit.ringAt
        return line
    }

    static func clip(id: String, file: String) -> VisitLogLine {
        var line = VisitLogLine(.clip, id: id)
        line.file = file
        return line
    }

    static func end(_ visit: Visit) -> VisitLogLine {
        var line = VisitLogLine(.end, id: visit.id)
        line.outcome = visit.outcome
        switch visit.answeredBy {
        case .paired(let name)?: line.by = "paired"; line.byName = name
        case .visitorLink?: line.by = "link"
        case nil: break
        }
        line.durationMillis = visit.durationMillis
        return line
    }

    /// The lines that rebuild `visit` (what compaction writes).
    static func lines(for visit: Visit) -> [VisitLogLine] {
        var lines = [ring(visit)]
        if let file = visit.clip { lines.append(clip(id: visit.id, file: file)) }
        if visit.outcome != nil { lines.append(end(visit)) }
        return lines
    }

    var encoded: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        return Array((try? encoder.encode(self)) ?? Data()) + [0x0A]
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> VisitLogLine? {
        try? JSONDecoder().decode(VisitLogLine.self, from: Data(bytes))
    }
}
