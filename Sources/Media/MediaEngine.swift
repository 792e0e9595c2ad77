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
    /// The pipeline started when the room opened, for the first call's answer (`warmUp()`).
    private(set) var warm: WarmPipeline?
    /// The payload types of the last offer answered: the next caller's browser most likely offers the same.
    /// Before the first call, what Chromium 156 offers: H.264 constrained baseline packetization-mode 1 as 108,
    /// Opus as 111, the playout-delay extension as 5 (a browser that differs only costs the first call its warm start).
    private var expectedVideoPayloadType = 108
    private var expectedAudioPayloadType = 111
    private var expectedPlayoutDelayID: Int? = 5

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
        DecoderPreference.preferSmallH264Decoder()
        DTLSIdentity.prepareInBackground()
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
        DTLSIdentity.waitUntilPrepared()
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
        pipeline.clipTee = settings.clipTee
        pipeline.clipAudioTee = settings.clipAudioTee
        pipeline.visitTees = settings.visitTees
        return pipeline
    }

    /// A room opened: start the next call's pipeline now, with the payload types the last caller's browser
    /// offered, so the answer waits for nothing that could be done before the offer. Nothing is sent: there is
    /// no remote description and no ICE agent until a call takes it (`WarmPipeline`).
    public func warmUp() {
        guard settings.warmJoin, warm == nil, plan.sendsVideo || plan.sendsAudio else { return }
        var send = sendPipeline()
        send.playoutDelayExtensionID = expectedPlayoutDelayID
        let video: SendPipeline.VideoCodec? = !send.plan.sendsVideo ? nil : send.plan.encoder.map {
            .h264(payloadType: expectedVideoPayloadType, encoder: $0) }
        let audio = send.plan.sendsAudio ? expectedAudioPayloadType : nil
        let started = monotonicMicros()
        warm = WarmPipeline(send: send, video: video, audioPayloadType: audio)
        if warm != nil { Log.debug("media", "warm pipeline started in \((monotonicMicros() - started) / 1000) ms") }
    }

    /// The room closed without a call taking the warm pipeline: stop it (the camera goes off).
    public func coolDown() {
        warm?.stop()
        warm = nil
    }

    /// The warm pipeline when it is the one `send` describes with these payload types (nil: build one; the warm
    /// one, if any, is stopped first so the camera is free). Remembers the payload types for the next warm-up.
    func takeWarmPipeline(for send: SendPipeline, video: SendPipeline.VideoCodec?, audioPayloadType: Int?)
        -> UnsafeMutablePointer<GstElement>? {
        if !send.offering {
            if case .h264(let type, _)? = video { expectedVideoPayloadType = type }
            if let audioPayloadType { expectedAudioPayloadType = audioPayloadType }
            expectedPlayoutDelayID = send.playoutDelayExtensionID
        }
        defer { warm = nil }
        return warm?.take(for: send, video: video, audioPayloadType: audioPayloadType)
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
