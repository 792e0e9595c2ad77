import MainLoop
import Synchronization
import Testing

/// What ran on the loop, in the order it ran; read from the test's thread.
private final class Recorder: Sendable {
    private let entries = Mutex<[String]>([])
    func append(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

/// Something a timer's closure holds, to see when the closure is let go.
private final class Token: Sendable {}

/// Waits on the test's thread until every job posted before this call has run on the loop.
private func drainLoop() async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        GLibLoop.shared.post { done.resume() }
    }
}

/// The guarantees the rest of the program builds on (docs/architecture.md#one-process-one-loop): one thread,
/// jobs in the order they were queued whoever queued them, timers that die with their owner, and isolation
/// that is checked, not assumed.
@Suite struct MainLoopTests {
    init() { GLibLoop.shared.start() }

    @Test func postsFromAnotherThreadRunInOrder() async {
        let order = Recorder()
        for index in 0..<500 { GLibLoop.shared.post { order.append("\(index)") } }
        await drainLoop()
        #expect(order.all == (0..<500).map { "\($0)" })
    }

    /// A hop onto `GLibActor` (an `await` of an isolated function) is a job of its executor: it joins the same
    /// queue as `post`, behind what was posted before it, never ahead (no priority of its own).
    @Test func actorHopsQueueBehindEarlierPosts() async {
        let order = Recorder()
        for round in 0..<200 {
            GLibLoop.shared.post { order.append("post \(round)") }
            await appendOnLoop(order, "hop \(round)")
        }
        await drainLoop()
        #expect(order.all == (0..<200).flatMap { ["post \($0)", "hop \($0)"] })
    }

    @Test func jobsRunOnTheLoopThreadOnly() async {
        #expect(!GLibLoop.shared.isCurrent)
        #expect(GLibExecutor().isIsolatingCurrentContext() == false)
        let onLoop = Recorder()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            GLibLoop.shared.post {
                onLoop.append("isCurrent \(GLibLoop.shared.isCurrent)")
                onLoop.append("isolating \(String(describing: GLibExecutor().isIsolatingCurrentContext()))")
                done.resume()
            }
        }
        #expect(onLoop.all == ["isCurrent true", "isolating Optional(true)"])
    }

    /// A released `GLibTimer` never fires, and the closure it held is freed; a kept one beside it does fire,
    /// so the check can fail.
    @Test func aReleasedTimerNeverFiresAndFreesItsClosure() async {
        let outcome = await releasedAndKeptTimers()
        #expect(outcome.keptFired)
        #expect(!outcome.releasedFired)
        #expect(outcome.releasedClosureFreed)
    }

    /// A repeating timer released from its own callback (what the device does with a timer whose state ended)
    /// stops at that tick.
    @Test func aRepeatingTimerReleasedFromItsCallbackStops() async {
        let ticks = await repeatingTimerReleasedOnSecondTick()
        #expect(ticks == 2)
    }

    @Test func aCancelledTimerIsInactiveAndNeverFires() async {
        let outcome = await cancelledTimer()
        #expect(outcome.activeBefore)
        #expect(!outcome.activeAfter)
        #expect(!outcome.fired)
    }

    /// Entering `GLibActor`'s isolation from another thread is a programming error that must stop the process,
    /// not run loop-only code on the wrong thread. Checked in a child process.
    @Test func assumeIsolatedOffTheLoopThreadTraps() async {
        await #expect(processExitsWith: .failure) {
            GLibLoop.shared.start()
            GLibActor.assumeIsolated {}
        }
    }

    @Test func checkIsolatedOffTheLoopThreadTraps() async {
        await #expect(processExitsWith: .failure) {
            GLibLoop.shared.start()
            GLibExecutor().checkIsolated()
        }
    }

    /// The same call on the loop thread runs (the child exits normally), so the trap above is about the thread.
    @Test func assumeIsolatedOnTheLoopThreadRuns() async {
        await #expect(processExitsWith: .success) {
            GLibLoop.shared.start()
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                GLibLoop.shared.invoke {
                    GLibActor.assumeIsolated {}
                    done.resume()
                }
            }
        }
    }
}

@GLibActor
private func appendOnLoop(_ order: Recorder, _ entry: String) {
    order.append(entry)
}

@GLibActor
private func releasedAndKeptTimers() async -> (releasedFired: Bool, keptFired: Bool, releasedClosureFreed: Bool) {
    var releasedFired = false
    var keptFired = false
    weak var held: Token?
    var released: GLibTimer?
    do {
        let token = Token()
        held = token
        released = GLibTimer(milliseconds: 10) { withExtendedLifetime(token) { releasedFired = true } }
    }
    let kept = GLibTimer(milliseconds: 10) { keptFired = true }
    #expect(released?.isActive == true)
    released = nil
    // Timers of the same priority fire in deadline order: by the time this one fires, both 10 ms ones are due.
    var sentinel: GLibTimer?
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        sentinel = GLibTimer(milliseconds: 200) { done.resume() }
    }
    withExtendedLifetime((kept, sentinel)) {}
    return (releasedFired, keptFired, held == nil)
}

@GLibActor
private func repeatingTimerReleasedOnSecondTick() async -> Int {
    var ticks = 0
    var repeating: GLibTimer?
    repeating = GLibTimer(milliseconds: 5, repeating: true) {
        ticks += 1
        if ticks == 2 { repeating = nil }
    }
    var sentinel: GLibTimer?
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        sentinel = GLibTimer(milliseconds: 200) { done.resume() }
    }
    withExtendedLifetime(sentinel) {}
    #expect(repeating == nil)
    return ticks
}

@GLibActor
private func cancelledTimer() async -> (activeBefore: Bool, activeAfter: Bool, fired: Bool) {
    var fired = false
    let timer = GLibTimer(milliseconds: 10) { fired = true }
    let activeBefore = timer.isActive
    timer.cancel()
    let activeAfter = timer.isActive
    var sentinel: GLibTimer?
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        sentinel = GLibTimer(milliseconds: 100) { done.resume() }
    }
    withExtendedLifetime((timer, sentinel)) {}
    return (activeBefore, activeAfter, fired)
}
