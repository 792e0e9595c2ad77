import DoorCore

extension VisitLog {
    /// The visits newest first, as the control socket's `visits` reply and the paired browsers' list carry them:
    /// `{"id","seq","at","outcome","by","byName","durationMs","clip","clipBytes"}`, absent fields as null.
    public func listing() -> [JSONValue] {
        visits.reversed().map { visit in
            var by: JSONValue = nil
            var byName: JSONValue = nil
            switch visit.answeredBy {
            case .paired(let name)?: by = "paired"; byName = .string(name)
            case .visitorLink?: by = "link"
            case nil: break
            }
            let clipBytes = clipPath(of: visit).flatMap(fileSize).map { JSONValue.number(Double($0)) } ?? nil
            return [
                "id": .string(visit.id),
                "seq": .number(Double(visit.sequence)),
                "at": .number(Double(visit.ringAt)),
                "outcome": visit.outcome.map { .string($0.rawValue) } ?? nil,
                "by": by,
                "byName": byName,
                "durationMs": visit.durationMillis.map { .number(Double($0)) } ?? nil,
                "clip": visit.clip.map { .string($0) } ?? nil,
                "clipBytes": clipBytes,
            ]
        }
    }
}
