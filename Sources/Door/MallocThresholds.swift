import CMalloc
import Glibc
import DoorCore

/// Keeps glibc from moving a call's video frames into the heap, where they stay resident after the call.
///
/// glibc serves a block of 128 KiB or more with its own mmap, and returns it to the system when freed. But each
/// such free raises the threshold to the block's size (up to 32 MiB), so after the first call's frames (460 KiB
/// at 640×480, 1.4 MiB at 720p) were freed, the next ones came from the arenas, and a freed frame in the middle
/// of an arena is not returned even by `malloc_trim`. Fixing the threshold at glibc's own starting value turns
/// that adjustment off. Measured with three calls (`bench/run.py`'s call cycle, then /proc/PID/smaps): resident
/// size after the calls 79.7 → 76.5 MiB, the third malloc arena gone. `MALLOC_MMAP_THRESHOLD_` in the
/// environment still wins.
enum MallocThresholds {
    static let mmapThresholdBytes: Int32 = 128 * 1024

    static func fix() {
        guard getenv("MALLOC_MMAP_THRESHOLD_") == nil else { return }
        if mallopt(M_MMAP_THRESHOLD, mmapThresholdBytes) == 0 {
            Log.warning("intercom", "mallopt(M_MMAP_THRESHOLD) refused")
        }
    }
}
