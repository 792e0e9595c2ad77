import DoorCore
import MainLoop
import Synchronization

/// Polls `condition` on the GLib loop until it holds or `timeout` passes.
public func eventually(within timeout: Duration = .seconds(5), _ condition: @escaping @GLibActor () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

/// Polls a condition evaluated on the test thread.
public func eventuallyHere(within timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// Collects presses delivered on the GLib loop for the test thread to look at.
public final class PressRecorder: Sendable {
    private let presses = Mutex<[ButtonPress]>([])
    public init() {}
    public func append(_ press: ButtonPress) { presses.withLock { $0.append(press) } }
    public var all: [ButtonPress] { presses.withLock { $0 } }
}
