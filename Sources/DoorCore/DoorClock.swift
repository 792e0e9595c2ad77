/// The door's two clocks. Every deadline and interval (the ring countdown, the state machine's timers, rate
/// limits, liveness) runs on the monotonic clock (`CLOCK_MONOTONIC`): a Pi has no battery-backed clock and
/// sets the date by NTP after boot, a step that must not move a countdown. Dates that leave the process (a
/// notice's expiry, the pairing window's end in `intercom ctl`) are wall-clock times, converted at that edge.
public struct DoorClock: Sendable {
    /// Milliseconds of a clock that never jumps.
    public var monotonicMillis: @Sendable () -> Int64
    /// Milliseconds since the epoch, as the system sets them now.
    public var wallMillis: @Sendable () -> Int64

    public init(monotonicMillis: @escaping @Sendable () -> Int64, wallMillis: @escaping @Sendable () -> Int64) {
        self.monotonicMillis = monotonicMillis
        self.wallMillis = wallMillis
    }

    public static let system = DoorClock(monotonicMillis: { DoorCore.monotonicMillis() },
                                         wallMillis: { wallClockMillis() })

    /// Milliseconds from now until the monotonic `deadline`, 0 when it passed: what a `GLibTimer` is armed with.
    public func delay(until deadline: Int64) -> UInt32 {
        UInt32(clamping: max(0, deadline - monotonicMillis()))
    }

    /// The wall-clock time of the monotonic instant `instant`, by today's offset between the two clocks.
    public func wallTime(ofMonotonic instant: Int64) -> Int64 {
        wallMillis() + (instant - monotonicMillis())
    }
}
