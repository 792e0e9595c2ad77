/// At most one log line per `intervalMillis` for one kind of event a stranger can repeat at will (a flood
/// must not turn into a flood of journal writes); the line that gets through says how many were held back.
public struct LogLimiter: Sendable {
    public let intervalMillis: Int64
    private var lastLine: Int64?
    private var suppressed = 0

    public init(intervalMillis: Int64) { self.intervalMillis = intervalMillis }

    /// nil: stay quiet. Otherwise log now; the value is how many lines were suppressed since the last one.
    public mutating func admit(now: Int64) -> Int? {
        if let lastLine, now - lastLine < intervalMillis {
            suppressed += 1
            return nil
        }
        lastLine = now
        defer { suppressed = 0 }
        return suppressed
    }
}
