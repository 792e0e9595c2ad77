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
    /// The warm pipeline being started on the reaper's thread, and what waits for it.
    private var warming: WarmStart?
    /// Waiting for the warm start; told whether the room is still open (false: it closed first).
    private var afterWarmStart: [@GLibActor (_ roomOpen: Bool) -> Void] = []
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
    ///
    /// The pipeline is built and started on `PipelineReaper`'s thread (under load that took up to 848 ms, which
    /// held every button, timer and notification on the loop); `ready` runs on the loop once it runs, or once
    /// it failed or the room closed first (then there is no warm pipeline, as with `media.warm_join: false`).
    /// A call, a still or a clip that asks for it meanwhile waits for it (`waitForWarmStart`).
    public func warmUp(then ready: @escaping @GLibActor () -> Void) {
        guard settings.warmJoin, warm == nil, plan.sendsVideo || plan.sendsAudio else { return ready() }
        afterWarmStart.append { _ in ready() }
        guard warming == nil else { return }
        var send = sendPipeline()
        send.playoutDelayExtensionID = expectedPlayoutDelayID
        let video: SendPipeline.VideoCodec? = !send.plan.sendsVideo ? nil : send.plan.encoder.map {
            .h264(payloadType: expectedVideoPayloadType, encoder: $0) }
        let audio = send.plan.sendsAudio ? expectedAudioPayloadType : nil
        let start = WarmStart(send: send, video: video, audioPayloadType: audio)
        warming = start
        let description = send.description(video: video, audioPayloadType: audio)
        // After any pipeline still being stopped or started: the camera and the sound card are free by then.
        PipelineReaper.shared.afterTeardowns { [weak self] in
            guard let self, warming === start else { return }
            PipelineReaper.shared.start({ WarmPipeline.launch(description) }) { [weak self] element, millis in
                guard let self else { return PipelineReaper.shared.release(element, webrtc: nil) }
                warmStarted(start, element: element, millis: millis)
            }
        }
    }

    public func warmUp() { warmUp {} }

    /// The reaper's thread started (or failed to start) the pipeline of `start`.
    private func warmStarted(_ start: WarmStart, element: UnsafeMutablePointer<GstElement>?, millis: Double) {
        guard warming === start else {
            // The room closed (or another warm-up replaced this one) while it started: stop it again.
            if let element {
                PipelineReaper.shared.release(element, webrtc: gst_bin_get_by_name(cast(element, to: GstBin.self), "webrtc"))
            }
            return
        }
        warming = nil
        if let element {
            warm = WarmPipeline(adopting: element, send: start.send, video: start.video,
                                audioPayloadType: start.audioPayloadType)
            Log.debug("media", "warm pipeline started in \((millis * 10).rounded() / 10) ms off the loop")
        }
        runAfterWarmStart(roomOpen: true)
    }

    /// While the warm pipeline is being started: `body` runs on the loop once it runs (or gave up), or with
    /// `roomOpen` false once the room closed first, and true is returned; false when no warm start is pending
    /// (do it now). A call's answer, the ring's still and a visit's
    /// clip wait here rather than open the camera a second time or go without the warm pipeline.
    func waitForWarmStart(_ body: @escaping @GLibActor (_ roomOpen: Bool) -> Void) -> Bool {
        guard warming != nil else { return false }
        afterWarmStart.append(body)
        return true
    }

    private func runAfterWarmStart(roomOpen: Bool) {
        let waiting = afterWarmStart
        afterWarmStart = []
        waiting.forEach { $0(roomOpen) }
    }

    /// The room closed without a call taking the warm pipeline: stop it (the camera goes off). One still being
    /// started is stopped as soon as it is there; whatever waited for it runs now and finds none.
    public func coolDown() {
        stopStillCamera()
        warming = nil
        warm?.stop()
        warm = nil
        runAfterWarmStart(roomOpen: false)
    }

    /// The warm pipeline when it is the one `send` describes with these payload types (nil: build one; the warm
    /// one, if any, is stopped first so the camera is free). Remembers the payload types for the next warm-up.
    func takeWarmPipeline(for send: SendPipeline, video: SendPipeline.VideoCodec?, audioPayloadType: Int?)
        -> UnsafeMutablePointer<GstElement>? {
        stopStillCamera()
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

/// What a warm start was asked for: which start is still wanted when the pipeline comes back from the reaper's
/// thread, and what the `WarmPipeline` made of it remembers.
@GLibActor
private final class WarmStart {
    let send: SendPipeline
    let video: SendPipeline.VideoCodec?
    let audioPayloadType: Int?

    init(send: SendPipeline, video: SendPipeline.VideoCodec?, audioPayloadType: Int?) {
        self.send = send
        self.video = video
        self.audioPayloadType = audioPayloadType
    }
}
