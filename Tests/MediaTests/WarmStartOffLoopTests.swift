import CGStreamer
import Dispatch
import DoorCore
import MainLoop
import Testing
@testable import Media

/// A room's warm pipeline is built and started on the reaper's thread (`MediaEngine.warmUp`): the loop keeps
/// serving posts and timers however long that takes, a call that arrives meanwhile answers with that very
/// pipeline once it runs, and a room that closes first leaves nothing running.
@Suite(.serialized) struct WarmStartOffLoopTests {
    init() {
        gst_init(nil, nil)
        GLibLoop.shared.start()
    }

    @GLibActor final class Slow {
        var ready = false
        var warmAtReady: UnsafeMutablePointer<GstElement>?
        var postRan = false
        var timerFired = false
        var answeredWhileHeld = false
    }

    /// The reaper's thread is held on purpose, so the warm start takes as long as the test likes: the loop runs a
    /// post and a timer meanwhile, the caller's answer waits, and once the start is let go the call runs on the
    /// warm pipeline with its camera open.
    @GLibActor @Test func theLoopServesPostsWhileAWarmStartIsSlow() async throws {
        let engine = try SessionTeardownTests.testEngine()
        // The first call teaches the engine this offer's payload types, so the next warm pipeline matches it.
        try await WarmPipelineTests.call(engine, expectWarm: nil)
        #expect(await SessionTeardownTests.poll { PipelineReaper.shared.inFlight == 0 })

        let slow = Slow()
        let release = DispatchSemaphore(value: 0)
        PipelineReaper.shared.onTeardownThread { release.wait() }
        engine.warmUp {
            slow.ready = true
            slow.warmAtReady = engine.warm?.running
        }
        #expect(!slow.ready && engine.warm == nil, "warmUp started the pipeline on the loop")
        GLibLoop.shared.post { slow.postRan = !slow.ready }
        let timer = GLibTimer(milliseconds: 20) { slow.timerFired = !slow.ready }
        #expect(await SessionTeardownTests.poll { slow.postRan && slow.timerFired },
                "the loop did not serve a post and a timer while the warm pipeline was starting")
        withExtendedLifetime(timer) {}

        let events = SessionEvents()
        let session = try CallSession(peer: "warm-slow", connectionId: "mc_warm_slow",
                                      offerSDP: SessionTeardownTests.callOffer, engine: engine)
        session.onEvent = events.record
        try session.start()
        // Long enough for an answer that was not held back (it comes in well under a second here).
        _ = await SessionTeardownTests.poll(seconds: 1) { events.answer != nil }
        slow.answeredWhileHeld = events.answer != nil
        #expect(!slow.answeredWhileHeld, "the call answered before the warm pipeline it waits for was started")
        #expect(!slow.ready)

        release.signal()
        #expect(await SessionTeardownTests.poll { slow.ready }, "warmUp's ready never ran")
        let warm = try #require(slow.warmAtReady, "no warm pipeline when ready ran")
        #expect(await SessionTeardownTests.poll { events.answer != nil }, "the call never answered")
        let running = try #require(session.runningPipeline)
        #expect(running == warm, "the call built its own pipeline instead of answering with the warm one")
        #expect(WarmPipelineTests.valveDrops(running) == false, "the call's camera stays off")
        #expect(engine.warm == nil)

        let watch = ObjectWatch()
        watch.watch(running)
        session.hangUp()
        #expect(await SessionTeardownTests.poll { events.ended != nil }, "the hang-up never ended the call")
        #expect(await SessionTeardownTests.poll { watch.alive.isEmpty }, "still alive: \(watch.alive)")
    }

    /// A room that closes while its pipeline is still starting: whatever waited for it hears at once that there
    /// is none, and the pipeline is stopped as soon as it is there; the next room starts a new one.
    @GLibActor @Test func aRoomClosedWhileItsPipelineStartsLeavesNoneRunning() async throws {
        let engine = try SessionTeardownTests.testEngine()
        let release = DispatchSemaphore(value: 0)
        PipelineReaper.shared.onTeardownThread { release.wait() }
        let stoppedBefore = PipelineReaper.shared.stopped
        var ready = false
        engine.warmUp { ready = engine.warm == nil }
        let outcome = StillGrabberTests.Outcome()
        engine.grabStill { still in
            outcome.reported = true
            outcome.still = still
        }
        engine.coolDown()
        #expect(ready, "warmUp's ready did not run when the room closed")
        #expect(await SessionTeardownTests.poll { outcome.reported } && outcome.still == nil,
                "a still was taken from a room that closed before its camera started")

        release.signal()
        #expect(await SessionTeardownTests.poll { PipelineReaper.shared.stopped > stoppedBefore },
                "the pipeline started for the closed room was not stopped")
        #expect(engine.warm == nil, "a closed room's pipeline became the warm pipeline")

        engine.warmUp()
        let next = try #require(await WarmPipelineTests.started(engine), "the next room got no warm pipeline")
        let watch = ObjectWatch()
        watch.watch(next)
        engine.coolDown()
        #expect(await SessionTeardownTests.poll { watch.alive.isEmpty }, "still alive: \(watch.alive)")
    }
}
