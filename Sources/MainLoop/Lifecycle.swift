/// The running parts of the process in the order they started, stopped in reverse on the loop.
///
/// Each part is added as it starts (or started by `start()` here), so what starts last — the calls — stops
/// first, and what everything else draws on — the display, the web server — stops last. A stop may take a
/// while (a call's hang-up has to reach the peer): it calls `done` when it is over, and only then does the
/// next part stop. Starting stops at the first failure and stops what had started, in reverse.
@GLibActor
public final class Lifecycle {
    public enum State: Equatable, Sendable {
        case idle, running, stopping, stopped
    }

    /// One part: its name (for the log) and how it stops; `done` may be called later, on the loop, once.
    public struct Component {
        public let name: String
        let start: @GLibActor () throws -> Void
        let stop: @GLibActor (_ done: @escaping @GLibActor () -> Void) -> Void
    }

    public private(set) var state = State.idle
    private var pending: [Component] = []
    private var running: [Component] = []
    /// Called with each part's name as it stops (the log, and the tests' record).
    public var onStopping: (@GLibActor (String) -> Void)?

    public init() {}

    /// The names of the running parts, in start order.
    public var runningNames: [String] { running.map(\.name) }

    /// A part to start with `start()`.
    public func add(_ name: String, start: @escaping @GLibActor () throws -> Void,
                    stop: @escaping @GLibActor (_ done: @escaping @GLibActor () -> Void) -> Void) {
        pending.append(Component(name: name, start: start, stop: stop))
    }

    /// A part the caller has just started itself; it stops before every part that started earlier.
    public func started(_ name: String, stop: @escaping @GLibActor (_ done: @escaping @GLibActor () -> Void) -> Void) {
        running.append(Component(name: name, start: {}, stop: stop))
        if state == .idle { state = .running }
    }

    /// `started` for a part whose stop is over when it returns.
    public func started(_ name: String, stopNow: @escaping @GLibActor () -> Void) {
        started(name) { done in stopNow(); done() }
    }

    /// Starts the added parts in order. If one throws, the parts started so far stop in reverse and the error
    /// is rethrown once they have (synchronous stops only; an asynchronous one finishes later on the loop).
    public func start() throws {
        precondition(state == .idle || state == .running, "Lifecycle.start after stop")
        state = .running
        while !pending.isEmpty {
            let next = pending.removeFirst()
            do {
                try next.start()
            } catch {
                pending = []
                stop {}
                throw error
            }
            running.append(next)
        }
    }

    /// Stops the running parts, last started first, each after the one before said it is done; then `completion`.
    /// A second call while stopping (a second SIGTERM) does nothing.
    public func stop(then completion: @escaping @GLibActor () -> Void) {
        guard state != .stopping, state != .stopped else { return }
        state = .stopping
        stopNext(completion)
    }

    private func stopNext(_ completion: @escaping @GLibActor () -> Void) {
        guard let last = running.popLast() else {
            state = .stopped
            return completion()
        }
        onStopping?(last.name)
        var finished = false
        last.stop { [weak self] in
            guard !finished else { return }
            finished = true
            self?.stopNext(completion)
        }
    }
}
