/// The `gst_parse_launch` description of one call's pipeline: webrtcbin, the send branches (camera → valve →
/// encoder → payloader with the offer's payload type; microphone → echo canceller → mute → Opus) and the
/// speaker branch (mixer → echo probe → sink) that the caller's decoded audio joins at run time.
///
/// Element names the session reaches at run time: `webrtc`, `camvalve` (camera off), `venc` (bitrate,
/// keyframes), `micvolume` (mute), `speakermix` (the caller's audio).
public struct SendPipeline: Sendable {
    public enum VideoCodec: Sendable, Equatable {
        case h264(payloadType: Int, encoder: EncoderChoice)
        case vp8(payloadType: Int)
    }

    public var plan: MediaPlan
    public var jitterLatencyMillis = 60
    /// webrtcechoprobe is found by name process-wide, so each call's probe needs its own.
    public var echoProbeName = "echoprobe"
    /// Width of the self-view picture for the device screen (an appsink named `selfview`); 0 = none.
    public var selfViewWidth = 0
    /// Benchmarks: an `identity name=clockstamp` behind the camera, where `ClockStamp` draws the time.
    public var clockStamp = false
    /// The door offers the call: the payloaders' caps carry what the offer's `a=rtpmap`/`a=fmtp` must say
    /// (H.264 packetization-mode 1 and the encoder's constrained-baseline profile-level-id; Opus stereo-signalled).
    public var offering = false
    /// A `tee name=enctee` between the H.264 encoder and the payloader, where `ClipRecorder` takes the encoded
    /// stream for a visit's clip (docs/visits.md). The leaky queue behind it keeps the clip flowing while
    /// webrtcbin, not yet negotiated in a warm pipeline, holds its input back.
    public var clipTee = false
    /// A `tee name=spktee` after the speaker mixer (the caller's audio, kept running by silence), for
    /// recording calls with their audio (`visits.record_calls`).
    public var clipAudioTee = false
    /// Tees after both encoders (`enctee` after the H.264 encoder, `opustee` after Opus), where a household
    /// visit's other phones take the same encoded streams (`HouseholdVisit`, docs/household.md).
    public var visitTees = false

    /// Payload types of the door's own offers (any dynamic type works; these are the ones browsers use).
    public static let offerVideoPayloadType = 96
    public static let offerOpusPayloadType = 111
    /// What a receive-only transceiver asks for when the door has no camera or microphone to send.
    public static let receiveOnlyVideoCaps = "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
        + "packetization-mode=(string)1,profile-level-id=(string)42e01f"
    public static let receiveOnlyAudioCaps = "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
        + "encoding-params=(string)2"

    /// The video codec of the door's own offer: H.264 when we have an encoder, else VP8, else none.
    public var offerVideoCodec: VideoCodec? {
        guard plan.sendsVideo else { return nil }
        if let encoder = plan.encoder { return .h264(payloadType: Self.offerVideoPayloadType, encoder: encoder) }
        return plan.vp8Available ? .vp8(payloadType: Self.offerVideoPayloadType) : nil
    }
    /// The offer's ID for the playout-delay header extension: the answer accepts it and every video packet
    /// carries min = max = 0 (`PlayoutDelay`); nil when the offer has none (or the door offers).
    public var playoutDelayExtensionID: Int?
    /// What the test picture shows (`MediaSettings.testPattern`).
    public var testPattern = MediaSettings.TestPattern.ball

    public init(plan: MediaPlan) { self.plan = plan }

    /// The video codec for this offer: H.264 with the offer's payload type when the offer has usable H.264 and
    /// we have an encoder, else VP8 when both sides can, else nil (no video sent).
    public func videoCodec(for offer: SDPOffer) -> VideoCodec? {
        guard plan.sendsVideo else { return nil }
        if let encoder = plan.encoder, let h264 = offer.preferredH264() {
            return .h264(payloadType: h264.type, encoder: encoder)
        }
        if plan.vp8Available, let vp8 = offer.preferredVP8() { return .vp8(payloadType: vp8.type) }
        return nil
    }

    public func description(video: VideoCodec?, audioPayloadType: Int?) -> String {
        var parts = ["webrtcbin name=webrtc bundle-policy=max-bundle latency=\(jitterLatencyMillis)"]
        if let video, let source = videoSource {
            parts.append(source + " ! videoconvert ! videoscale ! videorate drop-only=true"
                + " ! video/x-raw,width=\(plan.width),height=\(plan.height),framerate=\(plan.framerate)/1"
                + (clockStamp ? " ! identity name=clockstamp" : "")
                + " ! valve name=camvalve drop=false" + (selfViewWidth > 0 ? " ! tee name=camtee" : "")
                + " ! queue max-size-buffers=1 max-size-bytes=0 max-size-time=0 leaky=downstream"
                + " ! " + encoderAndPayloader(video) + " ! webrtc.")
            if selfViewWidth > 0 {
                // After the valve: with the camera off the self-view freezes too, as the caller's picture does.
                // Scaled down before the conversion to BGRx, which then touches 200 pixels a row instead of 1280:
                // 0.43 against 0.83 ms a picture from 720p (gst-launch-1.0 on 450 pictures, source subtracted).
                parts.append("camtee. ! queue name=selfviewqueue max-size-buffers=1 leaky=downstream ! videoscale"
                    + " ! video/x-raw,width=\(selfViewWidth),pixel-aspect-ratio=1/1 ! videoconvert ! video/x-raw,format=BGRx"
                    + " ! appsink name=selfview sync=false async=false max-buffers=1 drop=true")
            }
        }
        if let audioPayloadType, let source = microphoneSource {
            parts.append(source + " ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=48000,channels=1"
                + (plan.echoCancellation ? " ! " + dsp : "")
                + " ! volume name=micvolume mute=false ! audioconvert"
                + " ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=100000000 leaky=downstream"
                + " ! opusenc bitrate=32000 frame-size=20 audio-type=voice inband-fec=true"
                + (visitTees ? " ! tee name=opustee" : "")
                + " ! rtpopuspay pt=\(audioPayloadType)"
                + " ! application/x-rtp,media=audio,encoding-name=OPUS,payload=\(audioPayloadType),clock-rate=48000"
                + (offering ? ",encoding-params=(string)2" : "") + " ! webrtc.")
        }
        parts.append(speakerBranch)
        return parts.joined(separator: "  ")
    }

    // MARK: - Video

    var videoSource: String? {
        switch plan.video {
        case .libcamera: return "libcamerasrc"
        // Square pixels, whatever the driver reports: a USB (UVC) camera has them, and a nonsense ratio (vivid
        // reports 1/2147483647) left the self-view no height to scale to ("negotiation problem", mid-call).
        case .v4l2(let device): return "v4l2src device=\(device) io-mode=auto pixel-aspect-ratio=1/1"
        case .test: return "videotestsrc is-live=true pattern=\(testPattern.rawValue)"
        case .none: return nil
        }
    }

    func encoderAndPayloader(_ codec: VideoCodec) -> String {
        switch codec {
        case .h264(let pt, let encoder):
            return Self.h264Encoder(encoder, plan: plan)
                + (clipTee || visitTees ? " ! tee name=enctee ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=500000000"
                    + " leaky=downstream" : "")
                + " ! h264parse config-interval=-1"
                + " ! rtph264pay pt=\(pt) config-interval=-1 aggregate-mode=zero-latency name=vpay"
                + (playoutDelayExtensionID != nil ? " auto-header-extension=false" : "")
                + " ! application/x-rtp,media=video,encoding-name=H264,payload=\(pt),clock-rate=90000"
                + (playoutDelayExtensionID.map { ",extmap-\($0)=(string)\"\(SDPOffer.playoutDelayURI)\"" } ?? "")
                + (offering ? ",packetization-mode=(string)1,profile-level-id=(string)"
                    + H264Level.fitting(width: plan.width, height: plan.height, framerate: plan.framerate)
                        .constrainedBaselineProfileLevelId : "")
        case .vp8(let pt):
            return "vp8enc name=venc deadline=1 cpu-used=8 threads=2 lag-in-frames=0 end-usage=cbr error-resilient=partitions"
                + " keyframe-max-dist=\(plan.keyframeInterval) target-bitrate=\(plan.bitrateKbps * 1000)"
                + " ! rtpvp8pay pt=\(pt) picture-id-mode=15-bit"
                + " ! application/x-rtp,media=video,encoding-name=VP8,payload=\(pt),clock-rate=90000"
        }
    }

    /// The encoder and a caps filter pinning constrained baseline (and the level where the encoder takes it), so
    /// the SPS — and with it the `profile-level-id` rtph264pay puts in the answer — is what browsers decode.
    static func h264Encoder(_ encoder: EncoderChoice, plan: MediaPlan) -> String {
        let level = H264Level.fitting(width: plan.width, height: plan.height, framerate: plan.framerate)
        switch encoder {
        case .v4l2h264enc:
            let controls = "controls,video_bitrate=\(plan.bitrateKbps * 1000),video_bitrate_mode=1"
                + ",h264_i_frame_period=\(plan.keyframeInterval),repeat_sequence_header=1"
                + ",h264_profile=1,h264_level=\(level.v4l2Menu)"
            return "v4l2convert ! video/x-raw,format=I420 ! v4l2h264enc name=venc extra-controls=\"\(controls)\""
                + " ! video/x-h264,profile=constrained-baseline,level=(string)\(level.name)"
        case .x264enc:
            return "x264enc name=venc tune=zerolatency speed-preset=ultrafast key-int-max=\(plan.keyframeInterval)"
                + " bitrate=\(plan.bitrateKbps) vbv-buf-capacity=200"
                + " ! video/x-h264,profile=constrained-baseline,level=(string)\(level.name)"
        case .openh264enc:
            return "openh264enc name=venc complexity=low multi-thread=2 rate-control=bitrate"
                + " gop-size=\(plan.keyframeInterval) bitrate=\(plan.bitrateKbps * 1000)"
                + " ! video/x-h264,profile=constrained-baseline"
        }
    }

    /// The encoder property that takes the bitrate while playing, and the value for `kbps`; nil when the
    /// encoder cannot change it live.
    public static func bitrateProperty(_ codec: VideoCodec, kbps: Int) -> (name: String, value: Int)? {
        switch codec {
        case .h264(_, .x264enc): return ("bitrate", kbps)
        case .h264(_, .openh264enc): return ("bitrate", kbps * 1000)
        case .h264(_, .v4l2h264enc): return nil
        case .vp8: return ("target-bitrate", kbps * 1000)
        }
    }

    // MARK: - Audio

    var microphoneSource: String? {
        switch plan.microphone {
        case .alsa(let device): return "alsasrc" + (device.map { " device=\($0)" } ?? "") + " buffer-time=40000 latency-time=10000"
        case .pulse: return "pulsesrc buffer-time=40000 latency-time=10000"
        case .test: return "audiotestsrc is-live=true wave=sine freq=440 volume=0.2"
        case .none: return nil
        }
    }

    /// Echo canceller and noise suppression on the microphone, fed by the speaker branch's probe.
    var dsp: String { Self.dsp(probe: echoProbeName, echoCancel: true, noiseSuppression: plan.noiseSuppression) }

    /// `delay-agnostic` lets the canceller find the speaker-to-microphone delay itself: it differs per board,
    /// sound card and buffer size, and measured here it converges in about a second where the fixed-delay mode
    /// did not converge at all. AGC stays off: the microphone level is the sound card mixer's.
    public static func dsp(probe: String, echoCancel: Bool, noiseSuppression: Bool) -> String {
        "webrtcdsp name=dsp probe=\(probe) echo-cancel=\(echoCancel) delay-agnostic=true extended-filter=false"
            + " noise-suppression=\(noiseSuppression) gain-control=false high-pass-filter=true"
    }

    /// Where the caller's audio goes: a live mixer (kept running by silence, so the echo canceller always has
    /// its reference), the echo probe, the speaker. The decoded stream links to `speakermix` when it appears.
    var speakerBranch: String {
        "audiotestsrc is-live=true wave=silence samplesperbuffer=480 ! audio/x-raw,format=S16LE,rate=48000,channels=1"
            + " ! audiomixer name=speakermix latency=20000000" + (clipAudioTee ? " ! tee name=spktee" : "")
            + " ! audioconvert ! audioresample"
            + " ! audio/x-raw,format=S16LE,rate=48000,channels=1"
            + (plan.echoCancellation ? " ! webrtcechoprobe name=\(echoProbeName)" : "")
            + " ! " + speakerSink
    }

    var speakerSink: String {
        switch plan.speaker {
        case .alsa(let device): return "alsasink" + (device.map { " device=\($0)" } ?? "") + " buffer-time=40000 latency-time=10000 async=false"
        case .pulse: return "pulsesink buffer-time=40000 latency-time=10000 async=false"
        case .silent: return "fakesink name=speaker sync=true async=false"
        }
    }
}
