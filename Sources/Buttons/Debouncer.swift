import DoorCore

/// Turns the raw edges of one push button into presses. A value type with no I/O: the caller gives time in
/// milliseconds (GPIO event timestamps, or a test's timeline), so every case is testable without sleeping.
///
/// - **Debounce**: a level counts once it has held for `debounceMillis` with no further edge. Contact bounce
///   and glitches shorter than that are ignored however many edges they have; a real press is confirmed
///   `debounceMillis` after its last bounce.
/// - **Long press at the threshold**: a press held for `longPressMillis` (counted from the moment the contact
///   settled) is reported as `long` as soon as it reaches the threshold, while the finger is still down, so
///   the device reacts without waiting for the release; that release then reports nothing. A press released
///   earlier is a short press, reported when the release settles.
/// - What is reported depends only on the edge timeline. `feed` reports everything due up to the edge's time;
///   `advance(toMillis:)` reports what fell due since (a settled release, a long press) and
///   `nextDeadlineMillis` says when that will be, for a timer.
public struct Debouncer: Sendable, Equatable {
    public enum Level: Sendable, Equatable {
        case pressed, released
    }

    public let button: Button
    public let debounceMillis: Int64
    public let longPressMillis: Int64

    /// The debounced level.
    private var stable = Level.released
    /// The level of the last edge, and since when.
    private var raw = Level.released
    private var rawSince = Int64.min
    /// Start of the settled press, until it is reported (long) or released.
    private var pressedSince: Int64?
    /// Latest time seen; time never goes backwards.
    private var now = Int64.min

    public init(button: Button, debounceMillis: Int64 = 30, longPressMillis: Int64 = 1500) {
        precondition(debounceMillis >= 0 && longPressMillis > 0, "debounce must be >= 0 and long press > 0 ms")
        self.button = button
        self.debounceMillis = debounceMillis
        self.longPressMillis = longPressMillis
    }

    /// True while a settled press is held.
    public var isPressed: Bool { stable == .pressed }

    /// When `advance(toMillis:)` would next report something or settle a level, if anything is pending.
    public var nextDeadlineMillis: Int64? {
        var deadline: Int64?
        if raw != stable { deadline = rawSince + debounceMillis }
        // A pending release ends the hold at `rawSince`, so the long-press clock only runs while still down.
        if let since = pressedSince, raw == .pressed { deadline = min(deadline ?? .max, since + longPressMillis) }
        return deadline
    }

    /// One raw edge at `atMillis`. Returns the presses that became due up to that time.
    public mutating func feed(_ level: Level, atMillis time: Int64) -> [ButtonPress] {
        var presses = advance(toMillis: time)
        if level != raw {
            raw = level
            rawSince = now
        }
        presses += advance(toMillis: now)  // a zero debounce settles at once; a hold may have passed the threshold
        return presses
    }

    /// Moves time forward without an edge. Returns the presses that became due.
    public mutating func advance(toMillis time: Int64) -> [ButtonPress] {
        now = max(now, time)
        var presses: [ButtonPress] = []
        while let due = nextDeadlineMillis, due <= now {
            if raw == .pressed, let since = pressedSince, since + longPressMillis == due {
                presses.append(ButtonPress(button, long: true))
                pressedSince = nil
            } else {
                stable = raw
                if stable == .pressed {
                    pressedSince = rawSince
                } else if pressedSince != nil {
                    presses.append(ButtonPress(button))
                    pressedSince = nil
                }
            }
        }
        return presses
    }
}
