import CGLib
import Glibc
import Synchronization

/// The process's one GLib main loop (`g_main_loop_run` on the default `GMainContext`), on a thread of its own.
///
/// GStreamer bus watches, libwebsockets (GLib mode), GPIO fds and the control socket all dispatch here, and
/// `GLibActor` runs its jobs here, so the control plane needs no locks.
public final class GLibLoop: @unchecked Sendable {
    // Safe to share: the pointers are set once in init and GLib's context/loop functions are thread-safe.
    public static let shared = GLibLoop()

    public let context: OpaquePointer
    public let loop: OpaquePointer
    private let started = Atomic(false)
    /// The loop thread, for `join` (written once in `start`, before the loop runs; read by the thread that joins).
    private var thread = pthread_t()
    private let joined = Atomic(false)

    private init() {
        context = g_main_context_default()
        loop = g_main_loop_new(context, 0)
    }

    /// Starts the loop thread once; later calls do nothing.
    public func start() {
        guard started.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged
        else { return }
        let rc = pthread_create(&thread, nil, glibLoopThreadMain, Unmanaged.passUnretained(self).toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        // Wait until the loop owns its context, so isCurrent and jobs behave from the first call.
        while g_main_loop_is_running(loop) == 0 { usleep(200) }
    }

    public func quit() { g_main_loop_quit(loop) }

    /// Waits, on another thread, until the loop thread returned after `quit()`: the process's last step, so
    /// nothing runs on the loop while the process exits. Later calls return at once.
    public func join() {
        precondition(!isCurrent, "GLibLoop.join called on the loop thread")
        guard started.load(ordering: .sequentiallyConsistent),
              joined.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged
        else { return }
        pthread_join(thread, nil)
    }

    /// True on the loop thread while it runs.
    public var isCurrent: Bool { g_main_context_is_owner(context) != 0 }

    /// Runs `body` on the loop thread, later, in the order of calls (one idle source per job; sources of the
    /// same priority dispatch in attach order). Never runs inline.
    public func invoke(_ body: @escaping @Sendable () -> Void) {
        let source = g_idle_source_new()
        g_source_set_priority(source, G_PRIORITY_DEFAULT)
        let box = Unmanaged.passRetained(Job(body)).toOpaque()
        g_source_set_callback(source, { ud in
            Unmanaged<Job>.fromOpaque(ud!).takeUnretainedValue().body()
            return 0 // G_SOURCE_REMOVE
        }, box, { ud in Unmanaged<Job>.fromOpaque(ud!).release() })
        g_source_attach(source, context)
        g_source_unref(source)
    }

    /// Hops to `GLibActor` from any thread (GStreamer streaming threads, webrtcbin callbacks) in FIFO order.
    public func post(_ body: @escaping @Sendable @GLibActor () -> Void) {
        invoke { GLibActor.assumeIsolated { body() } }
    }
}

private final class Job: @unchecked Sendable {
    // Immutable after init; run only on the loop thread.
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

private func glibLoopThreadMain(_ arg: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let loop = Unmanaged<GLibLoop>.fromOpaque(arg!).takeUnretainedValue()
    g_main_context_push_thread_default(loop.context)
    g_main_loop_run(loop.loop)
    return nil
}
