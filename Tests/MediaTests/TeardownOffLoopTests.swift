import CGStreamer
import Dispatch
import DoorCore
import MainLoop
import Synchronization
import Testing
@testable import Media

/// Stopping a call's pipeline (webrtcbin's queued operations, every streaming thread joining) happens on the
/// teardown thread: the loop keeps serving timers and posts meanwhile, and a new call's pipeline starts only
/// once the old one let go of the camera and the sound card.
@Suite(.serialized) struct TeardownOffLoopTests {
    init() {
        gst_init(nil, nil)
        GLibLoop.shared.start()
    }

    /// The teardown thread is held on purpose: the call still ends, and the loop runs a post and a timer, while
    /// the pipeline waits to be stopped; once let go, everything of the call is gone.
    @GLibActor @Test func theLoopServesPostsWhileAPipelineIsBeingStopped() async throws {
        let engine = try SessionTeardownTests.testEngine()
        let release = DispatchSemaphore(value: 0)
        let result = try await Self.endWhileHeld(engine, release: release)
        #expect(result.ended, "the hang-up never ended the call")
        #expect(result.inFlightAtEnd >= 1, "the pipeline was not handed to the teardown thread")
        #expect(result.postRan, "a post did not run while the teardown was pending")
        #expect(result.timerFired, "a timer did not fire while the teardown was pending")
        release.signal()
        #expect(await SessionTeardownTests.poll { PipelineReaper.shared.inFlight == 0 }, "the teardown never finished")
        let gone = await SessionTeardownTests.poll { result.watch.alive.isEmpty }
        let alive = result.watch.alive
        #expect(gone, "still alive after the teardown: \(alive)")
    }

    @GLibActor final class Held {
        var ended = false
        var inFlightAtEnd = -1
        var postRan = false
        var timerFired = false
        let watch = ObjectWatch()
    }

    @GLibActor static func endWhileHeld(_ engine: MediaEngine, release: DispatchSemaphore) async throws -> Held {
        let held = Held()
        let events = SessionEvents()
        do {
            let session = try CallSession(peer: "offloop-test", connectionId: "mc_offloop",
                                          offerSDP: SessionTeardownTests.callOffer, engine: engine)
            session.onEvent = { event in
                switch event {
                case .answer(let sdp): events.answer = sdp
                case .ended:
                    held.ended = true
                    held.inFlightAtEnd = PipelineReaper.shared.inFlight
                default: break
                }
            }
            try session.start()
            #expect(await SessionTeardownTests.poll { events.answer != nil }, "no answer")
            held.watch.watch(try #require(session.runningPipeline))
            PipelineReaper.shared.onTeardownThread { release.wait() }
            session.hangUp()
            #expect(await SessionTeardownTests.poll { held.ended })
        }
        GLibLoop.shared.post { held.postRan = PipelineReaper.shared.inFlight >= 1 }
        let timer = GLibTimer(milliseconds: 20) { held.timerFired = PipelineReaper.shared.inFlight >= 1 }
        _ = await SessionTeardownTests.poll { held.postRan && held.timerFired }
        withExtendedLifetime(timer) {}
        return held
    }

    /// A call that starts while the last one's pipeline is still being stopped answers only after that stop:
    /// its camera and sound card are free by then.
    @GLibActor @Test func aNewCallStartsAfterTheLastPipelineStopped() async throws {
        let engine = try SessionTeardownTests.testEngine()
        let release = DispatchSemaphore(value: 0)
        let order = try await Self.secondCallWhileHeld(engine, release: release)
        #expect(order.answeredBeforeRelease == false, "the new call answered while the old pipeline was not stopped")
        release.signal()
        #expect(await SessionTeardownTests.poll { order.answer != nil }, "the new call never answered")
        #expect(order.stoppedBeforeAnswer, "the new call answered before the old pipeline stopped")
        order.end()
        #expect(await SessionTeardownTests.poll { PipelineReaper.shared.inFlight == 0 })
    }

    @GLibActor final class SecondCall {
        var answer: String?
        var answeredBeforeRelease: Bool?
        var stoppedBeforeAnswer = false
        var session: CallSession?
        func end() { session?.hangUp(); session = nil }
    }

    @GLibActor static func secondCallWhileHeld(_ engine: MediaEngine, release: DispatchSemaphore) async throws -> SecondCall {
        let first = SessionEvents()
        let second = SecondCall()
        do {
            let session = try CallSession(peer: "offloop-first", connectionId: "mc_first",
                                          offerSDP: SessionTeardownTests.callOffer, engine: engine)
            session.onEvent = { event in
                if case .answer(let sdp) = event { first.answer = sdp }
                if case .ended(let reason, _) = event { first.ended = reason.rawValue }
            }
            try session.start()
            #expect(await SessionTeardownTests.poll { first.answer != nil }, "no answer to the first call")
            PipelineReaper.shared.onTeardownThread { release.wait() }
            session.hangUp()
            #expect(await SessionTeardownTests.poll { first.ended != nil })
        }
        let stoppedBefore = PipelineReaper.shared.stopped
        let session = try CallSession(peer: "offloop-second", connectionId: "mc_second",
                                      offerSDP: SessionTeardownTests.callOffer, engine: engine)
        session.onEvent = { [weak second] event in
            guard case .answer(let answer) = event else { return }
            second?.answer = answer
            second?.stoppedBeforeAnswer = PipelineReaper.shared.stopped > stoppedBefore
        }
        second.session = session
        try session.start()
        // Long enough for an answer that was not held back (it comes in well under a second here).
        _ = await SessionTeardownTests.poll(seconds: 2) { second.answer != nil }
        second.answeredBeforeRelease = second.answer != nil
        return second
    }

    /// Figures, not a bound: how late a 10 ms timer runs while calls are hung up and their pipelines stopped.
    @GLibActor @Test func timerLatenessDuringHangUps() async throws {
        let engine = try SessionTeardownTests.testEngine()
        let lateness = try await Self.measure(engine, rounds: 3)
        print("loop timer lateness during \(lateness.rounds) hang-ups: max \((lateness.maxMillis * 10).rounded() / 10) ms, "
              + "\(lateness.ticks) ticks of 10 ms; hang-up to pipeline stopped \(lateness.teardownMillis) ms, of which "
              + "the stop on the teardown thread (formerly on the loop) \(lateness.stopMillis) ms")
        #expect(lateness.rounds == 3 && lateness.teardownMillis.count == 3)
    }

    @GLibActor final class Lateness {
        var last = monotonicMicros()
        var maxMillis = 0.0
        var ticks = 0
        var rounds = 0
        var teardownMillis: [Int64] = []
        /// Each pipeline stop on the teardown thread: how long the loop waited before it moved off.
        var stopMillis: [Double] = []
    }

    @GLibActor static func measure(_ engine: MediaEngine, rounds: Int) async throws -> Lateness {
        let lateness = Lateness()
        for round in 1...rounds {
            let events = SessionEvents()
            let session = try CallSession(peer: "offloop-measure", connectionId: "mc_measure_\(round)",
                                          offerSDP: SessionTeardownTests.callOffer, engine: engine)
            session.onEvent = events.record
            try session.start()
            #expect(await SessionTeardownTests.poll { events.answer != nil }, "no answer")
            lateness.last = monotonicMicros()
            let timer = GLibTimer(milliseconds: 10, repeating: true) {
                let now = monotonicMicros()
                lateness.maxMillis = max(lateness.maxMillis, Double(now - lateness.last) / 1000 - 10)
                lateness.last = now
                lateness.ticks += 1
            }
            let started = monotonicMillis()
            session.hangUp()
            _ = await SessionTeardownTests.poll { events.ended != nil && PipelineReaper.shared.inFlight == 0 }
            lateness.teardownMillis.append(monotonicMillis() - started)
            lateness.stopMillis.append((PipelineReaper.shared.lastStopMillis * 10).rounded() / 10)
            timer.cancel()
            lateness.rounds += 1
        }
        return lateness
    }
}
