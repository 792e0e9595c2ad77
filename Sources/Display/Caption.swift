/// A chat line shown over a call, and how visible it still is (1 = fully, 0 = gone).
public struct Caption: Sendable, Equatable {
    public var text: String
    public var opacity: Double
    public init(text: String, opacity: Double) { self.text = text; self.opacity = opacity }
}

/// Chat lines with their arrival times: each stays fully visible, then fades out; at most `limit` at once.
struct CaptionQueue {
    static let holdMillis: Int64 = 5000
    static let fadeMillis: Int64 = 1000
    static let limit = 3
    private var lines: [(text: String, at: Int64)] = []

    mutating func add(_ text: String, at now: Int64) {
        lines.append((text, now))
        if lines.count > Self.limit { lines.removeFirst(lines.count - Self.limit) }
    }

    mutating func clear() { lines.removeAll() }

    /// The captions at `now`, dropping the ones that have faded out.
    mutating func captions(at now: Int64) -> [Caption] {
        lines.removeAll { now - $0.at >= Self.holdMillis + Self.fadeMillis }
        return lines.map { line in
            let age = now - line.at
            let opacity = age <= Self.holdMillis ? 1 : 1 - Double(age - Self.holdMillis) / Double(Self.fadeMillis)
            return Caption(text: line.text, opacity: max(0, opacity))
        }
    }

    var isEmpty: Bool { lines.isEmpty }
}
