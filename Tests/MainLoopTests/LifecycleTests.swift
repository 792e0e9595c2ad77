import MainLoop
import Testing

/// Parts that record what happens to them, in one shared log.
@GLibActor private final class Journal {
    var entries: [String] = []
    /// Stops that wait to be told they are over (like a call whose hang-up is still on its way).
    var heldStops: [String: @GLibActor () -> Void] = [:]
}

private struct Refused: Error {}

/// The order the process relies on: parts start in order and stop in reverse, a slow stop holds back the
/// ones after it, a failed start undoes what started, and a second stop request changes nothing.
@Suite struct LifecycleTests {
    init() { GLibLoop.shared.start() }

    static let door = ["display", "web server", "notifier", "control socket", "signaling", "calls"]

    @Test func partsStartInOrderAndStopInReverse() async throws {
        let log = try await Self.startAndStop(Self.door, failing: nil)
        #expect(log == Self.door.map { "start \($0)" } + Self.door.reversed().map { "stop \($0)" } + ["stopped"])
    }

    @Test func aFailedStartStopsWhatStartedInReverseAndRethrows() async throws {
        let log = try await Self.startAndStop(Self.door, failing: "control socket")
        // The error comes back once what had started is stopped.
        #expect(log == ["start display", "start web server", "start notifier", "start control socket",
                        "stop notifier", "stop web server", "stop display", "failed"])
    }

    @GLibActor static func startAndStop(_ names: [String], failing: String?) async throws -> [String] {
        let journal = Journal()
        let lifecycle = Lifecycle()
        for name in names {
            lifecycle.add(name, start: {
                journal.entries.append("start \(name)")
                if name == failing { throw Refused() }
            }, stop: { done in
                journal.entries.append("stop \(name)")
                done()
            })
        }
        do {
            try lifecycle.start()
        } catch {
            journal.entries.append("failed")
            #expect(lifecycle.state == .stopped)
            return journal.entries
        }
        #expect(lifecycle.state == .running)
        #expect(lifecycle.runningNames == names)
        lifecycle.stop { journal.entries.append("stopped") }
        #expect(lifecycle.state == .stopped)
        return journal.entries
    }

    /// The calls' stop is over only when the hang-ups went out: signaling must not stop before that, and a
    /// second SIGTERM meanwhile neither restarts nor skips anything.
    @Test func aSlowStopHoldsBackTheNextAndASecondStopChangesNothing() async {
        let result = await Self.slowStop()
        #expect(result.beforeRelease == ["stop calls"])
        #expect(result.after == ["stop calls", "stop signaling", "stop control socket", "stopped"])
    }

    @GLibActor static func slowStop() async -> (beforeRelease: [String], after: [String]) {
        let journal = Journal()
        let lifecycle = Lifecycle()
        // Started by their owner, as Device does: registration order is start order.
        lifecycle.started("control socket") { journal.entries.append("stop control socket") }
        lifecycle.started("signaling") { journal.entries.append("stop signaling") }
        lifecycle.started("calls") { done in
            journal.entries.append("stop calls")
            journal.heldStops["calls"] = done
        }
        var stopping: [String] = []
        lifecycle.onStopping = { stopping.append($0) }
        lifecycle.stop { journal.entries.append("stopped") }
        lifecycle.stop { journal.entries.append("stopped twice") }
        let before = journal.entries
        #expect(lifecycle.state == .stopping)
        let release = journal.heldStops["calls"]
        release?()
        release?()  // a stop that reports twice ends once
        #expect(lifecycle.state == .stopped)
        #expect(stopping == ["calls", "signaling", "control socket"])
        return (before, journal.entries)
    }
}
