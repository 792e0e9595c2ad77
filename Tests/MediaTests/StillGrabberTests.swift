import CGStreamer
import Glibc
import MainLoop
import Testing
@testable import Media

/// The ring's still (`MediaEngine.grabStill`): one JPEG of the camera's size, decoded here by GStreamer's
/// jpegdec and not blank, taken from the warm pipeline without changing what a call gets from it.
@Suite(.serialized) struct StillGrabberTests {
    init() {
        gst_init(nil, nil)
        GLibLoop.shared.start()
    }

    /// Holds what `grabStill` reported (set once, on the loop).
    @GLibActor final class Outcome {
        var reported = false
        var still: Still?
    }

    @Test @GLibActor func aStillFromTheWarmCameraIsAJPEGOfTheCamerasSize() async throws {
        let engine = try SessionTeardownTests.testEngine()
        engine.warmUp()
        defer { engine.coolDown() }
        let outcome = Outcome()
        engine.grabStill { still in
            outcome.reported = true
            outcome.still = still
        }
        #expect(await SessionTeardownTests.poll { outcome.reported }, "grabStill never reported")
        let still = try #require(outcome.still, "no still from a running test camera")
        #expect(still.jpeg.starts(with: [0xFF, 0xD8, 0xFF]), "not a JPEG")
        #expect(still.width == engine.plan.width && still.height == engine.plan.height)
        let jpeg = still.jpeg
        let decoded = try #require(Self.decodeGray(jpeg), "jpegdec could not decode it")
        #expect(decoded.width == engine.plan.width && decoded.height == engine.plan.height)
        #expect(decoded.variance > 100, "the still is blank (luma variance \(decoded.variance))")
        // The call still gets the warm pipeline's camera: the valve is untouched.
        let warm = try #require(engine.warm?.running)
        #expect(WarmPipelineTests.valveDrops(warm) == true)
    }

    /// `media.warm_join: false`: no warm pipeline, so a camera pipeline of its own takes the still and stops at once.
    @Test @GLibActor func withoutAWarmPipelineACameraOfItsOwnTakesItAndStops() async throws {
        let engine = try SessionTeardownTests.testEngine()
        let outcome = Outcome()
        engine.grabStill { still in
            outcome.reported = true
            outcome.still = still
        }
        #expect(engine.warm == nil)
        #expect(StillCamera.running?.isRunning == true, "no camera was started for the still")
        #expect(await SessionTeardownTests.poll { outcome.reported }, "grabStill never reported")
        let still = try #require(outcome.still, "no still from the test camera")
        #expect(still.width == engine.plan.width && still.height == engine.plan.height)
        let decoded = try #require(Self.decodeGray(still.jpeg), "jpegdec could not decode it")
        #expect(decoded.width == engine.plan.width && decoded.height == engine.plan.height)
        #expect(decoded.variance > 100, "the still is blank (luma variance \(decoded.variance))")
        // Stopped the moment the picture was taken: nothing holds the camera for the call.
        #expect(StillCamera.running == nil)
        #expect(await SessionTeardownTests.poll { PipelineReaper.shared.inFlight == 0 }, "the still's pipeline never stopped")
    }

    /// The room closing (and a call building its pipeline, which needs the camera) stops the still's camera.
    @Test @GLibActor func closingTheRoomStopsTheStillsCamera() async throws {
        let engine = try SessionTeardownTests.testEngine()
        let outcome = Outcome()
        engine.grabStill { still in
            outcome.reported = true
            outcome.still = still
        }
        let camera = try #require(StillCamera.running)
        engine.coolDown()
        #expect(!camera.isRunning && StillCamera.running == nil)
        #expect(await SessionTeardownTests.poll { outcome.reported }, "a stopped camera left grabStill hanging")
    }

    @Test @GLibActor func aPipelineStoppedBeforeAPictureReportsNil() async throws {
        let engine = try SessionTeardownTests.testEngine()
        engine.warmUp()
        let outcome = Outcome()
        var reports = 0
        engine.grabStill { still in
            reports += 1
            outcome.reported = true
            outcome.still = still
        }
        engine.coolDown()
        #expect(await SessionTeardownTests.poll { outcome.reported }, "a stopped pipeline left grabStill hanging")
        try await Task.sleep(for: .milliseconds(200))
        #expect(reports == 1)
    }

    /// The JPEG decoded by jpegdec to 8-bit gray: size and luma variance.
    static func decodeGray(_ jpeg: [UInt8]) -> (width: Int, height: Int, variance: Double)? {
        let path = "/tmp/still-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jpg"
        guard let file = fopen(path, "wb") else { return nil }
        defer { unlink(path) }
        _ = jpeg.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
        var error: UnsafeMutablePointer<GError>?
        let description = "filesrc location=\(path) ! jpegdec ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=out"
        guard let pipeline = gst_parse_launch(description, &error), error == nil else {
            g_clear_error(&error)
            return nil
        }
        defer {
            gst_element_set_state(pipeline, GST_STATE_NULL)
            gst_object_unref(UnsafeMutableRawPointer(pipeline))
        }
        guard let sink = gst_bin_get_by_name(UnsafeMutablePointer<GstBin>(OpaquePointer(pipeline)), "out") else { return nil }
        defer { gst_object_unref(UnsafeMutableRawPointer(sink)) }
        gst_element_set_state(pipeline, GST_STATE_PLAYING)
        guard let gray = gst_app_sink_try_pull_sample(UnsafeMutablePointer<GstAppSink>(OpaquePointer(sink)), 5_000_000_000)
        else { return nil }
        var info = GstVideoInfo()
        guard let caps = gst_sample_get_caps(gray), gst_video_info_from_caps(&info, caps) != 0,
              let out = gst_sample_get_buffer(gray) else { return nil }
        var map = GstMapInfo()
        guard gst_buffer_map(out, &map, GST_MAP_READ) != 0, let bytes = map.data else { return nil }
        defer { gst_buffer_unmap(out, &map) }
        let width = Int(info.width), height = Int(info.height), stride = Int(info.stride.0)
        var sum = 0.0, squares = 0.0
        for y in 0..<height {
            for x in 0..<width {
                let value = Double(bytes[y * stride + x])
                sum += value
                squares += value * value
            }
        }
        let count = Double(width * height)
        return (width, height, squares / count - (sum / count) * (sum / count))
    }
}
