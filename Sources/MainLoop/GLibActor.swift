import CGLib

/// Runs jobs on the GLib main loop thread: `enqueue` posts them through `GLibLoop.invoke`.
public final class GLibExecutor: SerialExecutor {
    public init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        GLibLoop.shared.invoke { job.runSynchronously(on: executor) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    public func checkIsolated() {
        precondition(GLibLoop.shared.isCurrent, "not on the GLib main loop thread")
    }

    public func isIsolatingCurrentContext() -> Bool? { GLibLoop.shared.isCurrent }
}

/// The control plane's actor: signaling, media control, display and buttons all run on the GLib thread.
@globalActor
public actor GLibActor {
    public static let shared = GLibActor()
    private static let executor = GLibExecutor()

    public nonisolated var unownedExecutor: UnownedSerialExecutor { Self.executor.asUnownedSerialExecutor() }

    /// For C callbacks that GLib dispatches on the loop thread (lws, bus watches, fd watches).
    public static func assumeIsolated<T>(_ operation: @GLibActor () throws -> T) rethrows -> T {
        precondition(GLibLoop.shared.isCurrent, "GLibActor.assumeIsolated called off the GLib thread")
        return try withoutActuallyEscaping(operation) { op in
            // Sound: we checked above that we are on the executor that isolates @GLibActor code.
            try unsafeBitCast(op, to: (() throws -> T).self)()
        }
    }
}
