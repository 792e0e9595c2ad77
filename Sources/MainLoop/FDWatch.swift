import CGLib

/// Watches a file descriptor on the GLib loop (`g_unix_fd_add_full` on the default context), so reading GPIO
/// events, keys and sockets needs no thread. The handler returns false to stop watching. Removed by
/// `cancel()` or when released; the descriptor itself belongs to the caller.
@GLibActor
public final class FDWatch {
    private var sourceID: guint = 0
    private let box: FDWatchBox

    public init(fd: Int32, conditions: [GIOCondition], _ handler: @escaping @GLibActor (GIOCondition) -> Bool) {
        box = FDWatchBox(handler: handler)
        let mask = GIOCondition(rawValue: conditions.reduce(0) { $0 | $1.rawValue })
        let userData = Unmanaged.passRetained(box).toOpaque()
        sourceID = g_unix_fd_add_full(G_PRIORITY_DEFAULT, fd, mask, fdWatchFired, userData, fdWatchRelease)
        box.onFinish = { [weak self] in self?.sourceID = 0 }
    }

    public var isActive: Bool { sourceID != 0 }

    public func cancel() {
        box.cancelled = true
        if sourceID != 0 {
            g_source_remove(sourceID)
            sourceID = 0
        }
    }

    isolated deinit { cancel() }
}

final class FDWatchBox: @unchecked Sendable {
    // Created and fired on the loop thread only.
    let handler: @GLibActor (GIOCondition) -> Bool
    var onFinish: (@GLibActor () -> Void)?
    var cancelled = false
    init(handler: @escaping @GLibActor (GIOCondition) -> Bool) { self.handler = handler }
}

private func fdWatchFired(_ fd: gint, _ condition: GIOCondition, _ userData: gpointer?) -> gboolean {
    let box = Unmanaged<FDWatchBox>.fromOpaque(userData!).takeUnretainedValue()
    return withExtendedLifetime(box) {
        GLibActor.assumeIsolated {
            let keep = box.handler(condition) && !box.cancelled
            if !keep { box.onFinish?() }
            return keep ? 1 : 0
        }
    }
}

private func fdWatchRelease(_ userData: gpointer?) {
    Unmanaged<FDWatchBox>.fromOpaque(userData!).release()
}
