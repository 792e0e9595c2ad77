import CGStreamer
import CIntercomShim
import MainLoop
import Testing
@testable import Media

/// The pipeline a room starts for its first call (`MediaEngine.warmUp`): it must send nothing while it waits,
/// answer the call that matches it with the very same pipeline, give way to one that does not, and leave
/// nothing behind either way.
@Suite(.serialized) struct WarmPipelineTests {
    init() {
        gst_init(nil, nil)
        GLibLoop.shared.start()
    }

    @Test func aMatchingCallAnswersWithTheWarmPipeline() async throws {
        let engine = try await SessionTeardownTests.testEngine()
        // The first call teaches the engine the payload types this browser offers.
        try await Self.call(engine, expectWarm: nil)
        try await Self.call(engine, expectWarm: true)
    }

    @Test @GLibActor func aCallThatDiffersStopsTheWarmPipelineFirst() async throws {
        let engine = try SessionTeardownTests.testEngine()
        engine.warmUp()
        #expect(await Self.started(engine) != nil, "no warm pipeline")
        // The door offering a call builds another description (its own payload types, offer caps).
        let session = CallSession(calling: "warm-test", connectionId: "mc_warm_out", engine: engine)
        try session.start()
        #expect(engine.warm == nil, "the warm pipeline outlived the call that did not take it")
        session.hangUp()
    }

    @Test @GLibActor func roomClosedStopsIt() async throws {
        let engine = try SessionTeardownTests.testEngine()
        let watch = ObjectWatch()
        engine.warmUp()
        let pipeline = try #require(await Self.started(engine))
        watch.watch(pipeline)
        engine.coolDown()
        #expect(await SessionTeardownTests.poll { watch.alive.isEmpty }, "still alive: \(watch.alive)")
    }

    /// `media.warm_join: false`: a room that opens starts no pipeline, so the camera stays off until a call.
    @Test @GLibActor func warmJoinOffStartsNothingWhenARoomOpens() throws {
        var settings = try SessionTeardownTests.testEngine().settings
        settings.warmJoin = false
        let engine = try MediaEngine(settings: settings, inventory: MediaInventory(elements: InstalledElements()))
        var ready = false
        engine.warmUp { ready = true }
        #expect(ready, "warmUp with nothing to start did not say so at once")
        #expect(engine.warm == nil, "a pipeline started although warm_join is off")
    }

    /// The warm pipeline once the reaper's thread started it (`warmUp` returns before that); nil if it never did.
    @GLibActor static func started(_ engine: MediaEngine) async -> UnsafeMutablePointer<GstElement>? {
        _ = await SessionTeardownTests.poll { engine.warm?.running != nil }
        return engine.warm?.running
    }

    /// One answered call after a warm-up: nothing gathered or sent before the offer; then the answer, and
    /// whether the call runs on the warm pipeline (nil: either is fine).
    @GLibActor static func call(_ engine: MediaEngine, expectWarm: Bool?) async throws {
        engine.warmUp()
        let warm = try #require(await started(engine), "no warm pipeline")
        let webrtc = try #require(gst_bin_get_by_name(UnsafeMutablePointer<GstBin>(OpaquePointer(warm)), "webrtc"))
        // Let it run: the sources and encoder start, and still no ICE agent gathers (nothing can leave).
        try await Task.sleep(for: .milliseconds(500))
        #expect(ic_object_get_enum(UnsafeMutableRawPointer(webrtc), "ice-gathering-state")
                == gint(GST_WEBRTC_ICE_GATHERING_STATE_NEW.rawValue))
        gst_object_unref(UnsafeMutableRawPointer(webrtc))
        #expect(valveDrops(warm) == true, "the camera's pictures reach the encoder before a call")

        let events = SessionEvents()
        let session = try CallSession(peer: "warm-test", connectionId: "mc_warm", offerSDP: SessionTeardownTests.callOffer,
                                      engine: engine)
        session.onEvent = events.record
        try session.start()
        #expect(engine.warm == nil)
        #expect(await SessionTeardownTests.poll { events.answer != nil }, "no answer")
        #expect(events.answer?.contains("a=sendrecv") == true, "the answer sends nothing")
        let running = try #require(session.runningPipeline)
        if let expectWarm {
            #expect((running == warm) == expectWarm, "the call \(expectWarm ? "did not take" : "took") the warm pipeline")
            if expectWarm { #expect(valveDrops(running) == false, "the call's camera stays off") }
        }
        let watch = ObjectWatch()
        watch.watch(running)
        session.hangUp()
        #expect(await SessionTeardownTests.poll { events.ended != nil }, "the hang-up never ended the call")
        #expect(await SessionTeardownTests.poll { watch.alive.isEmpty }, "still alive: \(watch.alive)")
    }

    @GLibActor static func valveDrops(_ pipeline: UnsafeMutablePointer<GstElement>) -> Bool? {
        guard let valve = gst_bin_get_by_name(UnsafeMutablePointer<GstBin>(OpaquePointer(pipeline)), "camvalve") else {
            return nil
        }
        defer { gst_object_unref(UnsafeMutableRawPointer(valve)) }
        return ic_object_get_int(UnsafeMutableRawPointer(valve), "drop") != 0 // a gboolean is a gint
    }
}
