#if canImport(Glibc)
import Glibc
#endif

/// One line per event on stderr (journald adds its own timestamps on a Pi; we add a monotonic one for tests).
public enum Log {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var tag: String { ["debug", "info", "warn", "error"][rawValue] }
    }

    nonisolated(unsafe) public static var minimum: Level = .info  // set once at start-up, before any thread

    public static func debug(_ module: String, _ message: @autoclosure () -> String) { emit(.debug, module, message) }
    public static func info(_ module: String, _ message: @autoclosure () -> String) { emit(.info, module, message) }
    public static func warning(_ module: String, _ message: @autoclosure () -> String) { emit(.warning, module, message) }
    public static func error(_ module: String, _ message: @autoclosure () -> String) { emit(.error, module, message) }

    /// A line for people and scripts reading standard output (unbuffered, so it shows at once in a pipe).
    public static func standardOutput(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
    }

    /// stderr is systemd's journal stream (`JOURNAL_STREAM` names its device and inode): lines then start
    /// with the syslog priority (`<6>`), which journald stores as the level, and carry no timestamp of ours.
    static let toJournal: Bool = {
        guard let value = getenv("JOURNAL_STREAM") else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return String(cString: value) == "\(info.st_dev):\(info.st_ino)"
    }()

    private static func emit(_ level: Level, _ module: String, _ message: () -> String) {
        guard level >= minimum else { return }
        if toJournal {
            var bytes = Array("<\([7, 6, 4, 3][level.rawValue])>\(module): \(message())\n".utf8)
            _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
            return
        }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let millis = Int(ts.tv_sec) * 1000 + Int(ts.tv_nsec) / 1_000_000
        let line = "[\(millis / 1000).\(pad3(millis % 1000))] \(level.tag) \(module): \(message())\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static func pad3(_ v: Int) -> String { v < 10 ? "00\(v)" : v < 100 ? "0\(v)" : "\(v)" }
}

/// Wall-clock milliseconds since the epoch (what tests compare across processes on one machine).
public func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Milliseconds of a clock that never jumps (for intervals, not dates).
public func monotonicMillis() -> Int64 { monotonicMicros() / 1000 }

public func monotonicMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}
