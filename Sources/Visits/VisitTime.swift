import DoorCore

/// The two clocks a visit is measured on: the wall clock says when (for people), the monotonic clock says how
/// long (it does not jump when NTP sets the time on a Pi that booted without a real-time clock).
public struct VisitTime: Sendable, Equatable {
    public var wallMillis: Int64
    public var monotonicMillis: Int64

    public init(wallMillis: Int64, monotonicMillis: Int64) {
        self.wallMillis = wallMillis
        self.monotonicMillis = monotonicMillis
    }

    public static var now: VisitTime { VisitTime(wallMillis: DoorCore.wallClockMillis(), monotonicMillis: DoorCore.monotonicMillis()) }
}
