/// One edge of a button line as either libgpiod API reports it, decoded once for both: the direction and the
/// kernel's timestamp. With active-low set the kernel already reports "rising" for the line becoming active,
/// i.e. pressed. The timestamp is on the kernel's monotonic clock, which is what the debouncer's timeline needs.
struct GPIOEdge: Equatable {
    let level: Debouncer.Level
    /// Milliseconds on the event clock (sub-millisecond parts dropped).
    let millis: Int64

    init(rising: Bool, nanoseconds: Int64) {
        level = rising ? .pressed : .released
        millis = nanoseconds / 1_000_000
    }
}
