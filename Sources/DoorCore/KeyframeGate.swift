/// Decides when the one encoder of a visit makes a keyframe, whichever phone asked (a join, a PLI, a FIR).
///
/// Several phones on lossy links can ask many times a second; every keyframe is several times a normal frame's
/// size and makes the loss worse for all of them. At most one keyframe per `interval` is let through; a request
/// inside the window is remembered and served when the window ends, so the last phone that asked still gets one.
/// Pure value: the caller supplies the time and runs the returned decision (docs/household.md).
public struct KeyframeGate: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        /// Ask the encoder now.
        case now
        /// Ask at `atMicros` (call `due(atMicros:)` then); a request is already pending for that time.
        case at(Int64)
        /// A keyframe is already scheduled; nothing more to do.
        case alreadyPending
    }

    public let intervalMicros: Int64
    private var lastMicros: Int64?
    private var pendingMicros: Int64?

    public init(intervalMicros: Int64 = 1_000_000) {
        self.intervalMicros = max(0, intervalMicros)
    }

    /// A phone asked for a keyframe at `nowMicros`.
    public mutating func request(nowMicros: Int64) -> Decision {
        if pendingMicros != nil { return .alreadyPending }
        guard let last = lastMicros, nowMicros - last < intervalMicros else {
            lastMicros = nowMicros
            return .now
        }
        let when = last + intervalMicros
        pendingMicros = when
        return .at(when)
    }

    /// The scheduled time came: true when the encoder should be asked now.
    public mutating func due(atMicros nowMicros: Int64) -> Bool {
        guard let pending = pendingMicros, nowMicros >= pending else { return false }
        pendingMicros = nil
        lastMicros = nowMicros
        return true
    }
}
