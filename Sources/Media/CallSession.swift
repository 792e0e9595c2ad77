import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop
import Synchronization

/// One call with one browser: a GStreamer pipeline around `webrtcbin` that answers the browser's offer, or
/// offers a call itself (`init(calling:…)`), sends H.264 + Opus from the device's sources and decodes what the
/// browser sends.
///
/// Offering (docs/signaling.md#media-calls): audio and video sendrecv with our own payload types (H.264
/// packetization-mode 1 constrained baseline, or VP8; Opus), plus an in-band data channel as a PeerJS 1.5 caller
/// adds (label "undefined", unordered), whose close tells a 1.5 answerer we hung up. `.offer` reports the offer,
/// `setRemoteAnswer` takes the answer; remote candidates wait for it.
///
/// The answer path follows docs/media.md#answering-an-offer: send branches are built with the offer's payload
/// types *before* `set-remote-description`, or webrtcbin answers recvonly without a word.
@GLibActor
public final class CallSession {
    public enum EndReason: String, Sendable {
        /// The browser closed the data channel or the peer connection.
        case remoteHangUp = "remote"
        /// We hung up.
        case localHangUp = "local"
        /// ICE failed or the pipeline reported an error.
        case failed
        /// Nothing came from the peer for `MediaSettings.Receiving.lostAfterMillis` after ICE connected: its browser
        /// is gone without a word (killed, out of range, battery).
        case lost
    }

    public let peer: String
    public let connectionId: String

    /// Everything the session reports, in order, on the loop thread (`CallSession.Event`); none after `.ended`.
    public var onEvent: (@GLibActor (Event) -> Void)?

    let engine: MediaEngine
    /// The context every C callback gets (internal for the teardown tests: it must go when the session goes).
    let link: SessionLink
    // The call's state, one value per concern (CallSession+State.swift).
    var elements = Elements()
    var negotiation: Negotiation
    var ice = ICE()
    var dtls = DTLSWatch()
    var liveness = Liveness()
    var sending = Sending()
    var switches = MediaSwitches()
    var ending = Ending()
    /// Milliseconds from the offer to each step of the join (`JoinTrace`, logged at debug level).
    var joinTrace = JoinTrace()
    /// The household visit this call's pipeline is shared with (CallSession+Join.swift); nil for a call of its own.
    var household: HouseholdVisit?

    /// Parses nothing and builds nothing yet; `start()` does the work.
    public init(peer: String, connectionId: String, offerSDP: String, engine: MediaEngine) throws(MediaError) {
        self.peer = peer
        self.connectionId = connectionId
        let offer = try SDPOffer(parsing: offerSDP)
        self.negotiation = Negotiation(offer: offer, offerText: offerSDP)
        self.engine = engine
        self.link = SessionLink(counters: MediaCounters(), remoteVideoWidth: engine.settings.screen.remoteVideoWidth,
                                remoteVideoFramesPerSecond: engine.settings.screen.remoteVideoFramesPerSecond,
                                clockStamp: engine.settings.extras.clockStamp)
        link.session = self
    }

    /// Offering: a call to `peer` on `connectionId`; `start()` builds it and makes the offer.
    public init(calling peer: String, connectionId: String, engine: MediaEngine) {
        self.peer = peer
        self.connectionId = connectionId
        self.negotiation = Negotiation(offer: nil, offerText: nil)
        self.engine = engine
        self.link = SessionLink(counters: MediaCounters(), remoteVideoWidth: engine.settings.screen.remoteVideoWidth,
                                remoteVideoFramesPerSecond: engine.settings.screen.remoteVideoFramesPerSecond,
                                clockStamp: engine.settings.extras.clockStamp)
        link.session = self
    }

    isolated deinit { stopPipeline() }

    public var counters: MediaCounters { link.counters }
    public var isEnded: Bool { ending.ended }
    public var isOffering: Bool { negotiation.offer == nil }
    /// The selected candidate pair's types once connected (`local/remote`, e.g. `relay/srflx`).
    public var selectedCandidatePair: String? { ice.selectedPair }
    public var microphoneMuted: Bool { switches.microphoneMuted }
    public var cameraOff: Bool { switches.cameraOff }
    /// Ended as `.lost`: the milliseconds from the peer's last packet to that end.
    public var lostAfterSilenceMillis: Int64? { liveness.lostAfterSilenceMillis }

    /// Answering: the browser's offer; nil when we offer.
    var offer: SDPOffer? { negotiation.offer }
    var pipeline: UnsafeMutablePointer<GstElement>? { elements.pipeline }
    var webrtc: UnsafeMutablePointer<GstElement>? { elements.webrtc }

    /// The running pipeline (nil before `start()` and after the end); the teardown tests watch its elements.
    var runningPipeline: UnsafeMutablePointer<GstElement>? { pipeline }

    /// Builds the pipeline (with the offer's payload types when answering), starts it and begins answering or
    /// offering.
    public func start() throws(MediaError) {
        // A room's warm pipeline is still starting off the loop (`MediaEngine.warmUp`): answer with it once it runs.
        if engine.waitForWarmStart({ [weak self] _ in
            guard let self, !isEnded else { return }
            do throws(MediaError) { try start() } catch { finish(.failed, "\(error)") }
        }) { return }
        var send = engine.sendPipeline()
        let video: SendPipeline.VideoCodec?
        let audio: Int?
        if let offer {
            video = offer.section("video")?.section.direction == "sendonly" ? nil : send.videoCodec(for: offer)
            audio = offer.section("audio")?.section.direction == "sendonly" || !send.plan.sendsAudio ? nil : offer.preferredOpus()?.type
            guard offer.section("video") != nil || offer.section("audio") != nil else {
                throw MediaError(.noUsableCodec, "the offer has neither audio nor video")
            }
            if case .h264? = video {
                send.playoutDelayExtensionID = offer.section("video")?.section.extensions[SDPOffer.playoutDelayURI]
            }
            if offer.section("video") != nil, video == nil, send.plan.sendsVideo {
                Log.warning("media", "\(peer) offers no video codec we can send (H.264 packetization-mode=1 or VP8); no video")
            }
        } else {
            video = send.offerVideoCodec
            audio = send.plan.sendsAudio ? SendPipeline.offerOpusPayloadType : nil
            send.offering = true
        }
        sending.videoCodec = video
        let description = send.description(video: video, audioPayloadType: audio)
        Log.debug("media", "pipeline: \(description)")
        let element: UnsafeMutablePointer<GstElement>
        if let warm = engine.takeWarmPipeline(for: send, video: video, audioPayloadType: audio) {
            element = warm
            Log.debug("media", "answering with the warm pipeline")
        } else {
            var error: UnsafeMutablePointer<GError>?
            guard let built = gst_parse_launch(description, &error), error == nil else {
                throw MediaError(.pipelineFailed, takeError(error))
            }
            element = built
        }
        elements.pipeline = element
        guard let webrtc = gst_bin_get_by_name(cast(element, to: GstBin.self), "webrtc") else {
            throw MediaError(.pipelineFailed, "no webrtcbin in the pipeline")
        }
        elements.webrtc = webrtc
        WebRTCICE.apply(to: webrtc)
        if let queue = gst_bin_get_by_name(cast(element, to: GstBin.self), "selfviewqueue") {
            if let pad = gst_element_get_static_pad(queue, "sink") {
                FrameThinning.attach(to: pad, framesPerSecond: engine.settings.screen.remoteVideoFramesPerSecond)
                gst_object_unref(UnsafeMutableRawPointer(pad))
            }
            gst_object_unref(UnsafeMutableRawPointer(queue))
        }
        if let selfView = gst_bin_get_by_name(cast(element, to: GstBin.self), "selfview") {
            attachPictureTap(selfView, PictureTap(link: link, kind: .selfView,
                                                  framesPerSecond: engine.settings.screen.remoteVideoFramesPerSecond))
            gst_object_unref(UnsafeMutableRawPointer(selfView))
        }
        watchEncoder()
        if engine.settings.extras.clockStamp { addClockStampDrawing(cast(element, to: GstBin.self)) }
        if let id = send.playoutDelayExtensionID { PlayoutDelay.attach(to: cast(element, to: GstBin.self), extensionID: id) }
        let raw = UnsafeMutableRawPointer(webrtc)
        connectSignal(raw, "on-ice-candidate", link, unsafeBitCast(onIceCandidate, to: GCallback.self))
        connectSignal(raw, "pad-added", link, unsafeBitCast(onWebRTCPadAdded, to: GCallback.self))
        connectSignal(raw, "on-data-channel", link, unsafeBitCast(onDataChannel, to: GCallback.self))
        connectSignal(raw, "notify::ice-connection-state", link, unsafeBitCast(onIceStateChanged, to: GCallback.self))

        let bus = gst_element_get_bus(element)
        elements.busWatch = gst_bus_add_watch_full(bus, G_PRIORITY_DEFAULT, onBusMessage,
                                          Unmanaged.passRetained(link).toOpaque(), releaseLink)
        gst_object_unref(UnsafeMutableRawPointer(bus))

        // The last call's pipeline may still hold the camera and the sound card on the teardown thread.
        let reaper = PipelineReaper.shared
        let bitrateKbps = send.plan.bitrateKbps
        guard reaper.inFlight > 0 else { return try play(video: video, audio: audio, bitrateKbps: bitrateKbps) }
        Log.info("media", "\(peer): waiting for the last pipeline to stop before starting this one")
        reaper.afterTeardowns { [weak self] in
            guard let self, !isEnded else { return }
            do throws(MediaError) { try play(video: video, audio: audio, bitrateKbps: bitrateKbps) } catch {
                finish(.failed, "\(error)")
            }
        }
    }

    /// Starts the built pipeline and begins answering or offering.
    func play(video: SendPipeline.VideoCodec?, audio: Int?, bitrateKbps: Int) throws(MediaError) {
        guard let element = pipeline,
              gst_element_set_state(element, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            throw MediaError(.pipelineFailed, "the call pipeline would not start")
        }
        joinTrace.mark("playing")
        if let offer, let offerText = negotiation.offerText {
            try setRemoteDescription(Self.withoutParameterSets(offerText), type: GST_WEBRTC_SDP_TYPE_OFFER)
            Log.info("media", "answering \(peer) (\(connectionId)): video \(video.map(Self.describe) ?? "none"), "
                     + "audio \(audio.map { "opus/\($0)" } ?? "none"), data channel \(offer.hasDataChannel ? "yes" : "no")")
        } else {
            try makeOffer(receiveVideo: video == nil, receiveAudio: audio == nil)
            Log.info("media", "calling \(peer) (\(connectionId)): video \(video.map(Self.describe) ?? "receive only"), "
                     + "audio \(audio.map { "opus/\($0)" } ?? "receive only"), data channel yes")
        }
        if video != nil {
            sending.bitrate = BitrateController(ceilingKbps: bitrateKbps)
            counters.videoBitrateKbps.store(bitrateKbps, ordering: .relaxed)
            sending.statsTimer = GLibTimer(milliseconds: 1000, repeating: true) { [weak self] in self?.requestStats() }
        }
    }

    /// A remote ICE candidate, held until the remote description is set. Empty end-of-candidates strings are
    /// ignored.
    public func addRemoteCandidate(mline: Int, candidate: String) {
        guard !isEnded, !candidate.isEmpty else { return }
        if let type = WebRTCICE.candidateType(candidate) { ice.remoteCandidateTypes.insert(type) }
        joinTrace.mark("first remote candidate")
        guard negotiation.remoteDescriptionApplied, let webrtc else {
            negotiation.earlyCandidates.hold((mline, candidate))
            return
        }
        ic_webrtc_add_ice_candidate(webrtc, guint(mline), candidate)
    }

    /// The offer without H.264 `sprop-parameter-sets`: webrtcbin matches the offer's caps against our encoder's
    /// and the caller's SPS/PPS never equal ours, so an offer that carries them (another door's) got a
    /// receive-only answer and no picture. Ours travel in-band (`config-interval=-1`); theirs do too.
    nonisolated static func withoutParameterSets(_ sdp: String) -> String {
        // "\r\n" is one Character in Swift: split on whichever line end the text uses.
        let end: Character = sdp.contains("\r\n") ? "\r\n" : "\n"
        let lines = sdp.split(separator: end, omittingEmptySubsequences: false).compactMap { line -> String? in
            guard line.hasPrefix("a=fmtp:"), let space = line.firstIndex(of: " ") else { return String(line) }
            let kept = line[line.index(after: space)...].split(separator: ";").filter {
                !$0.drop { $0 == " " }.hasPrefix("sprop-parameter-sets=")
            }
            return kept.isEmpty ? nil : line[...space] + kept.joined(separator: ";")
        }
        return lines.joined(separator: String(end))
    }

    static func describe(_ codec: SendPipeline.VideoCodec) -> String {
        switch codec {
        case .h264(let pt, let encoder): "H264/\(pt) (\(encoder.rawValue))"
        case .vp8(let pt): "VP8/\(pt)"
        }
    }

    /// Silences or restores the microphone in the running call: the `micvolume` element in the audio send
    /// branch sends zeros while muted, so the stream (and the negotiated session) goes on unchanged.
    public func setMicrophoneMuted(_ muted: Bool) {
        guard !isEnded else { return }
        switches.microphoneMuted = muted
        setProperty("micvolume", "mute", muted ? "true" : "false")
        Log.info("media", "microphone \(muted ? "muted" : "on") in the call with \(peer)")
    }

    /// Stops or restarts the camera's pictures without renegotiating: the `camvalve` valve drops frames before
    /// the encoder, so the peer's picture stops (the page shows its placeholder); on again, a keyframe follows
    /// at once so the picture comes back without waiting for the next periodic one.
    public func setCameraOff(_ off: Bool) {
        guard !isEnded else { return }
        switches.cameraOff = off
        setProperty("camvalve", "drop", off ? "true" : "false")
        if !off { requestKeyframe() }
        Log.info("media", "camera \(off ? "off" : "on") in the call with \(peer)")
    }

    /// Asks the encoder for a keyframe now (the way a PLI from the peer does).
    public func requestKeyframe() {
        guard let pipeline, !isEnded, let encoder = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "venc") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(encoder)) }
        guard let pad = gst_element_get_static_pad(encoder, "src") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        counters.keyframesForced.add(1, ordering: .relaxed)
        gst_pad_send_event(pad, gst_video_event_new_upstream_force_key_unit(GstClockTime.max, 1, 0))
    }

    func setProperty(_ element: String, _ property: String, _ value: String) {
        guard let pipeline, let found = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), element) else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(found)) }
        gst_util_set_object_arg(UnsafeMutablePointer<GObject>(OpaquePointer(found)), property, value)
    }

    /// Counts keyframes leaving the encoder and keyframe requests (force-key-unit events) reaching it.
    func watchEncoder() {
        guard let pipeline, let encoder = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "venc") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(encoder)) }
        guard let pad = gst_element_get_static_pad(encoder, "src") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        let context = Unmanaged.passRetained(counters).toOpaque()
        gst_pad_add_probe(pad, GstPadProbeType(rawValue: GST_PAD_PROBE_TYPE_BUFFER.rawValue | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM.rawValue),
                          watchEncoderPad, context, releaseCounters)
    }
}
