import Dispatch
import DoorCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Writes every shown frame as a PNG (`cairo_surface_write_to_png`): `screen-0001-room.png`, … for the
/// history, and `latest.png` for whoever watches the screen (a test, a viewer window). `latest.png` is
/// replaced by `rename`, so a reader never sees a half-written file. Files are written on a thread of their own
/// (`SnapshotWriter`), never on the loop.
public final class SnapshotSink: DisplaySink {
    public let directory: String
    /// How many frames were handed to the writer; the number in the last file name.
    public private(set) var count = 0

    /// During a call the picture changes with every video frame; at most this many are written a second.
    public let callFramesPerSecond: Int
    private var lastCallFrameAt: Int64 = 0

    /// Creates `directory` (and its parents) when missing.
    public init(directory: String, callFramesPerSecond: Int = 1) throws {
        self.directory = directory
        self.callFramesPerSecond = max(0, callFramesPerSecond)
        try Self.makeDirectory(directory)
    }

    /// Always the frame shown last.
    public var latestPath: String { directory + "/latest.png" }

    /// The numbered file the `n`th frame went to.
    public func path(ofSnapshot n: Int, screen: Screen) -> String {
        let digits = String(n)
        let padded = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        return "\(directory)/screen-\(padded)-\(Self.caseName(screen)).png"
    }

    /// Numbers the frame and hands it to the writer thread; PNG encoding and the file operations happen there,
    /// in order, so the loop never waits for the encoder or the disk. A frame that does not fit its size is
    /// refused here; a write that fails is logged there (once until the failure changes) and thrown by `flush`.
    public func show(_ frame: Frame, screen: Screen) throws {
        guard frame.isWellFormed else {
            throw DisplayError.badFrame("\(frame.width)x\(frame.height) stride \(frame.stride) does not fit \(frame.pixels.count) bytes")
        }
        if case .inCall = screen {
            let now = monotonicMillis()
            let interval = callFramesPerSecond > 0 ? Int64(1000 / callFramesPerSecond) : Int64.max
            guard lastCallFrameAt == 0 || now - lastCallFrameAt >= interval else { return }
            lastCallFrameAt = now
        } else {
            lastCallFrameAt = 0
        }
        count += 1
        let (numbered, directory, latest) = (path(ofSnapshot: count, screen: screen), directory, latestPath)
        writer.submit { try Self.write(frame, numbered: numbered, latest: latest, in: directory) }
    }

    /// Waits until every frame shown so far is on disk; throws the first write that failed since the last report.
    /// For tests and for shutting down (never on the loop while it serves the door).
    public func flush() throws {
        writer.drain()
        if let failure = writer.takeFailure() { throw failure }
    }

    /// The last frames reach the disk before the process exits.
    public func stop() {
        do { try flush() } catch { Log.error("display", "cannot write a snapshot: \(error)") }
    }

    /// Internal for the tests, which hold it back on purpose.
    let writer = SnapshotWriter()

    private static func write(_ frame: Frame, numbered: String, latest: String, in directory: String) throws {
        let temporary = directory + "/.latest.png.tmp"
        unlink(temporary)  // a leftover from a crash may be hard-linked to an older snapshot
        try writePNG(frame, to: temporary)
        // Encode once: the numbered name is a second link to the same file (a second write where links fail).
        unlink(numbered)
        if link(temporary, numbered) != 0 { try writePNG(frame, to: numbered) }
        guard rename(temporary, latest) == 0 else {
            throw DisplayError.snapshotWrite(path: latest, reason: errnoText(errno))
        }
    }

    private static func writePNG(_ frame: Frame, to path: String) throws {
        try frame.pixels.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { throw DisplayError.badFrame("no pixels") }
            // cairo only reads the pixels while it encodes the PNG, so lending it the immutable buffer is sound.
            let surface = try CairoSurface(
                borrowing: UnsafeMutableRawPointer(mutating: base), count: bytes.count,
                width: frame.width, height: frame.height, stride: frame.stride)
            try surface.writePNG(to: path)
        }
    }

    /// `mkdir -p`, then a check that frames can really be written there, so a bad path fails at start.
    private static func makeDirectory(_ path: String) throws {
        guard !path.isEmpty else { throw DisplayError.snapshotDirectory(path: path, reason: "empty path") }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw DisplayError.snapshotDirectory(path: path, reason: "mkdir \(prefix): \(errnoText(errno))")
            }
            prefix += "/"
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DisplayError.snapshotDirectory(path: path, reason: errnoText(errno))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw DisplayError.snapshotDirectory(path: path, reason: "not a directory")
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw DisplayError.snapshotDirectory(path: path, reason: "not writable: \(errnoText(errno))")
        }
    }

    /// The `Screen` case as it appears in file names.
    static func caseName(_ screen: Screen) -> String {
        switch screen {
        case .idle: "idle"
        case .room: "room"
        case .calling: "calling"
        case .knock: "knock"
        case .incomingCall: "incomingCall"
        case .inCall: "inCall"
        case .visit: "visit"
        case .ended: "ended"
        case .error: "error"
        case .pairing: "pairing"
        case .paired: "paired"
        }
    }
}

/// One serial worker for a sink's PNG writes, and the first failure among them until someone asks.
final class SnapshotWriter: Sendable {
    private let queue = DispatchQueue(label: "intercom.snapshots")
    /// The first failure not yet thrown by `flush`, and the last one logged (a full disk would log every frame).
    private let failures = Mutex<(first: (any Error)?, logged: String?)>((nil, nil))

    func submit(_ job: @escaping @Sendable () throws -> Void) {
        queue.async { [self] in
            do {
                try job()
                failures.withLock { $0.logged = nil }
            } catch {
                let text = "\(error)"
                let log = failures.withLock { state in
                    if state.first == nil { state.first = error }
                    defer { state.logged = text }
                    return state.logged != text
                }
                if log { Log.error("display", "cannot write a snapshot: \(text)") }
            }
        }
    }

    /// Tests: runs `body` on the writer thread in line with the writes.
    func hold(_ body: @escaping @Sendable () -> Void) { queue.async(execute: body) }

    /// Returns once every job submitted before has run.
    func drain() { queue.sync {} }

    func takeFailure() -> (any Error)? { failures.withLock { state in defer { state.first = nil }; return state.first } }
}
