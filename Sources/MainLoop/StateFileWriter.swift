import Dispatch
import Synchronization

/// Writes the door's small state files (the pairings) off the loop thread: one serial queue, files written
/// in the order they were asked for, and a file asked for again before its turn came written once, with the
/// newest bytes (the latest state wins). Each `done` runs on the loop afterwards with the outcome, so a reply
/// that depends on the file being saved goes out only once it is.
///
/// The write itself is the owner's (`AtomicFile.write` with its fsyncs, which took tens of milliseconds on
/// an SD card and held the loop meanwhile).
public final class StateFileWriter: Sendable {
    /// Writes `bytes` to `path`; returns why it failed, nil when written.
    public typealias Write = @Sendable (_ bytes: [UInt8], _ path: String) -> String?
    public typealias Done = @Sendable @GLibActor (_ failure: String?) -> Void

    private struct Job {
        var bytes: [UInt8]
        var done: [Done]
    }

    private let queue = DispatchQueue(label: "intercom.state-files")
    private let write: Write
    /// Jobs asked for and not started yet, by path.
    private let waiting = Mutex<[String: Job]>([:])
    /// Runs on the writer thread before each write: tests hold the writer here to show the loop goes on.
    private let hook = Mutex<(@Sendable (_ path: String) -> Void)?>(nil)
    /// Writes asked for and not finished yet.
    private let unfinished = Mutex(0)

    public init(write: @escaping Write) { self.write = write }

    /// Writes `bytes` to `path` after what was asked for before; `done` runs on the loop once it is written
    /// (or failed), with every other `done` of the same write.
    public func write(_ bytes: [UInt8], to path: String, done: @escaping Done = { _ in }) {
        let queued = waiting.withLock { jobs -> Bool in
            guard jobs[path] == nil else {
                jobs[path]!.bytes = bytes
                jobs[path]!.done.append(done)
                return true
            }
            jobs[path] = Job(bytes: bytes, done: [done])
            return false
        }
        if queued { return }
        unfinished.withLock { $0 += 1 }
        queue.async { [self] in
            guard let job = waiting.withLock({ $0.removeValue(forKey: path) }) else { return }
            hook.withLock { $0 }?(path)
            let failure = write(job.bytes, path)
            unfinished.withLock { $0 -= 1 }
            GLibLoop.shared.post { for done in job.done { done(failure) } }
        }
    }

    /// Nothing asked for is still to be written (the door's stop waits for this).
    public var isIdle: Bool { unfinished.withLock { $0 == 0 } }

    /// Tests: `hook` runs on the writer thread before each write (nil: none).
    public func setBeforeWrite(_ hook: (@Sendable (_ path: String) -> Void)?) { self.hook.withLock { $0 = hook } }
}
