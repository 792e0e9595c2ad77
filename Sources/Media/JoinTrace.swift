import DoorCore

/// Where the door's share of a join goes: the milliseconds from a caller's offer reaching the session to each
/// step of the answer and the connection, logged at debug level in one line once DTLS is up, e.g.
/// `join trace: playing 1, answer 9, first candidate 12, ICE connected 48, DTLS connected 71`.
/// `bench/run.py --only join` collects these lines (docs/latency-and-footprint.md).
struct JoinTrace {
    private let started = monotonicMicros()
    private var marks: [(step: String, millis: Double)] = []

    /// Records `step` the first time it happens; later ones are not the join.
    mutating func mark(_ step: String) {
        guard !marks.contains(where: { $0.step == step }) else { return }
        marks.append((step, Double(monotonicMicros() - started) / 1000))
    }

    func has(_ step: String) -> Bool { marks.contains { $0.step == step } }

    /// `step millis, …` in the order they happened, one decimal.
    var summary: String {
        marks.map { "\($0.step) \((($0.millis * 10).rounded() / 10))" }.joined(separator: ", ")
    }
}
