import CMalloc
import Glibc
import DoorCore
import MainLoop

/// How the process hands freed memory back to the system (glibc malloc).
///
/// Every call builds a pipeline with a dozen or more streaming threads. By default glibc gives threads up to
/// eight arenas per core and keeps what they free for later, so the door's resident size grew by 0.4–0.8 MiB with
/// every call although the heap in use stayed flat (`malloc_stats`: 10.3 → 10.6 MiB over ten calls while the
/// arenas grew 46 → 87 MiB). Two arenas, trimmed once each call is torn down, keep it flat
/// (`bench/run.py --only call-cycles`, docs/benchmarks.md).
public enum MemoryPolicy {
    /// At start, before any thread exists: at most two malloc arenas, unless `MALLOC_ARENA_MAX` says otherwise,
    /// and blocks of 128 KiB or more (video frames) in their own mappings (`MallocThresholds`).
    public static func limitArenas() {
        MallocThresholds.fix()
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        if mallopt(M_ARENA_MAX, 2) == 0 { Log.warning("intercom", "mallopt(M_ARENA_MAX) refused") }
    }

    /// Gives the pages the last call freed back to the system, a second from now: by then its data connection
    /// (closed 150 ms after the call) and the buffers still travelling through the loop are gone too.
    @GLibActor static func returnFreedMemorySoon() {
        trimTimer = GLibTimer(milliseconds: 1000) {
            trimTimer = nil
            let started = monotonicMicros()
            malloc_trim(0)
            Log.debug("intercom", "freed memory returned to the system in \((monotonicMicros() - started) / 1000) ms")
        }
    }

    @GLibActor private static var trimTimer: GLibTimer?
}
