import CGStreamer
import DoorCore
import MainLoop

/// GStreamer set-up for the process: `gst_init`, the plugin check, and the media plan (sources, encoder,
/// speaker, echo cancellation) chosen once from what this machine has and logged at start.
@GLibActor
public final class MediaEngine {
    public let settings: MediaSettings
    public let plan: MediaPlan
    /// The H.264 encoder in use (nil: none installed; VP8 peers only).
    public var encoder: EncoderChoice? { plan.encoder }
    private var callCount = 0

    /// Initialises GStreamer and checks every element the call pipeline needs, naming the package to install.
    /// `inventory` defaults to scanning this machine.
    public init(settings: MediaSettings, inventory: MediaInventory? = nil) throws(MediaError) {
        gst_init(nil, nil)
        for (element, package) in Self.requiredElements where !elementExists(element) {
            throw MediaError(.missingElement, "GStreamer element \(element) is missing: install \(package)")
        }
        if !elementExists("avdec_h264") && !elementExists("openh264dec") {
            Log.warning("media", "no H.264 decoder (install gstreamer1.0-libav): the caller's video will not decode")
        }
        self.settings = settings
        self.plan = MediaPlan.resolve(settings, inventory ?? MediaInventory.scan())
        Log.info("media", "GStreamer \(Self.version())")
        for note in plan.notes {
            switch note.level {
            case .info: Log.info("media", note.text)
            case .warning: Log.warning("media", note.text)
            case .error: Log.error("media", note.text)
            }
        }
    }

    /// `gst_deinit`, after the loop ended and every pipeline was stopped: GStreamer's leak tracer reports what is
    /// still alive here. Nothing of GStreamer may be used afterwards.
    public nonisolated static func deinitializeGStreamer() {
        gst_deinit()
    }

    /// The description builder for the next call (each call gets its own echo probe name).
    func sendPipeline() -> SendPipeline {
        callCount += 1
        var pipeline = SendPipeline(plan: plan)
        pipeline.jitterLatencyMillis = settings.jitterLatencyMillis
        pipeline.echoProbeName = "echoprobe\(callCount)"
        pipeline.selfViewWidth = settings.selfViewWidth
        pipeline.clockStamp = settings.clockStamp
        pipeline.testPattern = settings.testPattern
        return pipeline
    }

    /// Every element the call pipeline needs whatever the sources, with the Debian package that has it.
    public nonisolated static let requiredElements: [(element: String, package: String)] = [
        ("webrtcbin", "gstreamer1.0-plugins-bad"), ("nicesrc", "gstreamer1.0-nice"),
        ("dtlssrtpenc", "gstreamer1.0-plugins-bad"), ("rtph264pay", "gstreamer1.0-plugins-good"),
        ("rtpopuspay", "gstreamer1.0-plugins-good"), ("opusenc", "gstreamer1.0-plugins-base"),
        ("videotestsrc", "gstreamer1.0-plugins-base"), ("audiotestsrc", "gstreamer1.0-plugins-base"),
        ("decodebin", "gstreamer1.0-plugins-base"), ("videoconvert", "gstreamer1.0-plugins-base"),
        ("audiomixer", "gstreamer1.0-plugins-base"), ("h264parse", "gstreamer1.0-plugins-bad"),
        ("valve", "libgstreamer1.0-0"),
    ]

    public nonisolated static func version() -> String {
        var major: guint = 0, minor: guint = 0, micro: guint = 0, nano: guint = 0
        gst_version(&major, &minor, &micro, &nano)
        return "\(major).\(minor).\(micro)"
    }
}
