import CGLib

/// A one-shot or repeating `g_timeout_add` on the loop. Cancelled by `cancel()` or when released.
@GLibActor
public final class GLibTimer {
    private var sourceID: guint = 0
    private let box: TimerBox

    /// Fires `body` after `milliseconds`; again every `milliseconds` when `repeating`.
    public init(milliseconds: UInt32, repeating: Bool = false, _ body: @escaping @GLibActor () -> Void) {
        box = TimerBox(repeating: repeating, body: body)
        let ud = Unmanaged.passRetained(box).toOpaque()
        sourceID = g_timeout_add_full(G_PRIORITY_DEFAULT, milliseconds, glibTimerFired, ud, glibTimerRelease)
        box.onFinish = { [weak self] in self?.sourceID = 0 }
    }

    public func cancel() {
        if sourceID != 0 { g_source_remove(sourceID); sourceID = 0 }
    }

    public var isActive: Bool { sourceID != 0 }

    isolated deinit { cancel() }
}

final class TimerBox: @unchecked Sendable {
    // Touched only on the loop thread (created there, fired there).
    let repeating: Bool
    let body: @GLibActor () -> Void
    var onFinish: (@GLibActor () -> Void)?
    init(repeating: Bool, body: @escaping @GLibActor () -> Void) { self.repeating = repeating; self.body = body }
}

private func glibTimerFired(_ ud: gpointer?) -> gboolean {
    let box = Unmanaged<TimerBox>.fromOpaque(ud!).takeUnretainedValue()
    return GLibActor.assumeIsolated {
        if !box.repeating { box.onFinish?() }
        box.body()
        return box.repeating ? 1 : 0
    }
}

private func glibTimerRelease(_ ud: gpointer?) {
    Unmanaged<TimerBox>.fromOpaque(ud!).release()
}
