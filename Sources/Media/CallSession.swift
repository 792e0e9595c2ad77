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
/// adds (label "undefined", unordered), whose close tells a 1.5 answerer we hung up. `onOffer` gives the offer,
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
        /// Nothing came from the peer for `MediaSettings.lostAfterMillis` after ICE connected: its browser
        /// is gone without a word (killed, out of range, battery).
        case lost
    }

    public let peer: String
    public let connectionId: String
    public let counters = MediaCounters()

    /// Offering: the local offer SDP, once (send it as OFFER).
    public var onOffer: (@GLibActor (String) -> Void)?
    /// The local answer SDP, once (send it as ANSWER).
    public var onAnswer: (@GLibActor (String) -> Void)?
    /// Each local ICE candidate (send it as CANDIDATE).
    public var onLocalCandidate: (@GLibActor (_ mline: Int, _ candidate: String) -> Void)?
    /// Once, when the call is over for any reason; the pipeline is already stopped.
    public var onEnded: (@GLibActor (EndReason, String?) -> Void)?
    /// A decoded picture of the caller, scaled for the screen (only when `MediaSettings.remoteVideoWidth` > 0).
    public var onRemoteVideo: (@GLibActor (VideoPicture) -> Void)?
    /// The device's own camera picture, small, for the self-view (only when `MediaSettings.selfViewWidth` > 0).
    public var onSelfView: (@GLibActor (VideoPicture) -> Void)?
    /// The caller's DTLS certificate (PEM) once the handshake is done, so the owner can hold it against the
    /// fingerprint the offer promised; called at most once.
    public var onRemoteCertificate: (@GLibActor (String) -> Void)?
    /// ICE reached connected/completed, once per call (later ICE state changes are not new connections).
    public var onConnected: (@GLibActor () -> Void)?
    /// With `MediaSettings.clockStamp`: each stamp read from the caller's decoded video, as the milliseconds
    /// from the stamp's time to its reading.
    public var onClockStamp: (@GLibActor (_ latencyMillis: Int64) -> Void)?

    /// Answering: the browser's offer; nil when we offer.
    private let offer: SDPOffer?
    private let offerText: String?
    private let engine: MediaEngine
    /// Remote candidates held until the remote description is set.
    private var earlyCandidates: [(mline: Int, candidate: String)] = []
    private var remoteDescriptionApplied = false
    private var answerGiven = false
    public var isOffering: Bool { offer == nil }
    private var pipeline: UnsafeMutablePointer<GstElement>?
    private var webrtc: UnsafeMutablePointer<GstElement>?
    private var dataChannels: [UnsafeMutablePointer<GObject>] = []
    private var busWatch: guint = 0
    private var ended = false
    private var hangUpTimer: GLibTimer?
    private var iceConnected = false
    /// Candidate types gathered here and heard from the peer, for the log line of a call that never connects.
    private var localCandidateTypes: Set<String> = []
    private var remoteCandidateTypes: Set<String> = []
    private var connectTimer: GLibTimer?
    /// The selected candidate pair's types once connected (`local/remote`, e.g. `relay/srflx`).
    public private(set) var selectedCandidatePair: String?
    /// When the peer's packets last arrived; watched from the first ICE connection on.
    private let arrivals = PeerArrivals()
    private var livenessTimer: GLibTimer?
    /// The context every C callback gets (internal for the teardown tests: it must go when the session goes).
    let link: SessionLink
    private var videoCodec: SendPipeline.VideoCodec?
    private var bitrate: BitrateController?
    private var statsTimer: GLibTimer?
    private var lastLossCounts: (lost: Int, expected: Int)?
    public private(set) var microphoneMuted = false
    public private(set) var cameraOff = false

    /// Parses nothing and builds nothing yet; `start()` does the work.
    public init(peer: String, connectionId: String, offerSDP: String, engine: MediaEngine) throws(MediaError) {
        self.peer = peer
        self.connectionId = connectionId
        self.offerText = offerSDP
        self.offer = try SDPOffer(parsing: offerSDP)
        self.engine = engine
        self.link = SessionLink(counters: counters, remoteVideoWidth: engine.settings.remoteVideoWidth,
                                remoteVideoFramesPerSecond: engine.settings.remoteVideoFramesPerSecond,
                                clockStamp: engine.settings.clockStamp)
        link.session = self
    }

    /// Offering: a call to `peer` on `connectionId`; `start()` builds it and makes the offer.
    public init(calling peer: String, connectionId: String, engine: MediaEngine) {
        self.peer = peer
        self.connectionId = connectionId
        self.offerText = nil
        self.offer = nil
        self.engine = engine
        self.link = SessionLink(counters: counters, remoteVideoWidth: engine.settings.remoteVideoWidth,
                                remoteVideoFramesPerSecond: engine.settings.remoteVideoFramesPerSecond,
                                clockStamp: engine.settings.clockStamp)
        link.session = self
    }

    isolated deinit { stopPipeline() }

    public var isEnded: Bool { ended }

    /// The running pipeline (nil before `start()` and after the end); the teardown tests watch its elements.
    var runningPipeline: UnsafeMutablePointer<GstElement>? { pipeline }

    /// Builds the pipeline (with the offer's payload types when answering), starts it and begins answering or
    /// offering.
    public func start() throws(MediaError) {
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
        videoCodec = video
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
        pipeline = element
        guard let webrtc = gst_bin_get_by_name(cast(element, to: GstBin.self), "webrtc") else {
            throw MediaError(.pipelineFailed, "no webrtcbin in the pipeline")
        }
        self.webrtc = webrtc
        WebRTCICE.apply(to: webrtc)
        if let queue = gst_bin_get_by_name(cast(element, to: GstBin.self), "selfviewqueue") {
            if let pad = gst_element_get_static_pad(queue, "sink") {
                FrameThinning.attach(to: pad, framesPerSecond: engine.settings.remoteVideoFramesPerSecond)
                gst_object_unref(UnsafeMutableRawPointer(pad))
            }
            gst_object_unref(UnsafeMutableRawPointer(queue))
        }
        if let selfView = gst_bin_get_by_name(cast(element, to: GstBin.self), "selfview") {
            attachPictureTap(selfView, PictureTap(link: link, kind: .selfView,
                                                  framesPerSecond: engine.settings.remoteVideoFramesPerSecond))
            gst_object_unref(UnsafeMutableRawPointer(selfView))
        }
        watchEncoder()
        if engine.settings.clockStamp { addClockStampDrawing(cast(element, to: GstBin.self)) }
        if let id = send.playoutDelayExtensionID { PlayoutDelay.attach(to: cast(element, to: GstBin.self), extensionID: id) }
        let raw = UnsafeMutableRawPointer(webrtc)
        connectSignal(raw, "on-ice-candidate", link, unsafeBitCast(onIceCandidate, to: GCallback.self))
        connectSignal(raw, "pad-added", link, unsafeBitCast(onWebRTCPadAdded, to: GCallback.self))
        connectSignal(raw, "on-data-channel", link, unsafeBitCast(onDataChannel, to: GCallback.self))
        connectSignal(raw, "notify::ice-connection-state", link, unsafeBitCast(onIceStateChanged, to: GCallback.self))

        let bus = gst_element_get_bus(element)
        busWatch = gst_bus_add_watch_full(bus, G_PRIORITY_DEFAULT, onBusMessage,
                                          Unmanaged.passRetained(link).toOpaque(), releaseLink)
        gst_object_unref(UnsafeMutableRawPointer(bus))

        // The last call's pipeline may still hold the camera and the sound card on the teardown thread.
        let reaper = PipelineReaper.shared
        let bitrateKbps = send.plan.bitrateKbps
        guard reaper.inFlight > 0 else { return try play(video: video, audio: audio, bitrateKbps: bitrateKbps) }
        Log.info("media", "\(peer): waiting for the last pipeline to stop before starting this one")
        reaper.afterTeardowns { [weak self] in
            guard let self, !ended else { return }
            do throws(MediaError) { try play(video: video, audio: audio, bitrateKbps: bitrateKbps) } catch {
                finish(.failed, "\(error)")
            }
        }
    }

    /// Starts the built pipeline and begins answering or offering.
    private func play(video: SendPipeline.VideoCodec?, audio: Int?, bitrateKbps: Int) throws(MediaError) {
        guard let element = pipeline,
              gst_element_set_state(element, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            throw MediaError(.pipelineFailed, "the call pipeline would not start")
        }
        if let offer, let offerText {
            try setRemoteDescription(Self.withoutParameterSets(offerText), type: GST_WEBRTC_SDP_TYPE_OFFER)
            Log.info("media", "answering \(peer) (\(connectionId)): video \(video.map(Self.describe) ?? "none"), "
                     + "audio \(audio.map { "opus/\($0)" } ?? "none"), data channel \(offer.hasDataChannel ? "yes" : "no")")
        } else {
            try makeOffer(receiveVideo: video == nil, receiveAudio: audio == nil)
            Log.info("media", "calling \(peer) (\(connectionId)): video \(video.map(Self.describe) ?? "receive only"), "
                     + "audio \(audio.map { "opus/\($0)" } ?? "receive only"), data channel yes")
        }
        if video != nil {
            bitrate = BitrateController(ceilingKbps: bitrateKbps)
            counters.videoBitrateKbps.store(bitrateKbps, ordering: .relaxed)
            statsTimer = GLibTimer(milliseconds: 1000, repeating: true) { [weak self] in self?.requestStats() }
        }
    }

    /// A remote ICE candidate, held until the remote description is set. Empty end-of-candidates strings are
    /// ignored.
    public func addRemoteCandidate(mline: Int, candidate: String) {
        guard !ended, !candidate.isEmpty else { return }
        if let type = WebRTCICE.candidateType(candidate) { remoteCandidateTypes.insert(type) }
        guard remoteDescriptionApplied, let webrtc else {
            if earlyCandidates.count < 64 { earlyCandidates.append((mline, candidate)) }
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
        guard !ended else { return }
        microphoneMuted = muted
        setProperty("micvolume", "mute", muted ? "true" : "false")
        Log.info("media", "microphone \(muted ? "muted" : "on") in the call with \(peer)")
    }

    /// Stops or restarts the camera's pictures without renegotiating: the `camvalve` valve drops frames before
    /// the encoder, so the peer's picture stops (the page shows its placeholder); on again, a keyframe follows
    /// at once so the picture comes back without waiting for the next periodic one.
    public func setCameraOff(_ off: Bool) {
        guard !ended else { return }
        cameraOff = off
        setProperty("camvalve", "drop", off ? "true" : "false")
        if !off { requestKeyframe() }
        Log.info("media", "camera \(off ? "off" : "on") in the call with \(peer)")
    }

    /// Asks the encoder for a keyframe now (the way a PLI from the peer does).
    public func requestKeyframe() {
        guard let pipeline, !ended, let encoder = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "venc") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(encoder)) }
        guard let pad = gst_element_get_static_pad(encoder, "src") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        counters.keyframesForced.add(1, ordering: .relaxed)
        gst_pad_send_event(pad, gst_video_event_new_upstream_force_key_unit(GstClockTime.max, 1, 0))
    }

    private func setProperty(_ element: String, _ property: String, _ value: String) {
        guard let pipeline, let found = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), element) else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(found)) }
        gst_util_set_object_arg(UnsafeMutablePointer<GObject>(OpaquePointer(found)), property, value)
    }

    /// Counts keyframes leaving the encoder and keyframe requests (force-key-unit events) reaching it.
    private func watchEncoder() {
        guard let pipeline, let encoder = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "venc") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(encoder)) }
        guard let pad = gst_element_get_static_pad(encoder, "src") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        let context = Unmanaged.passRetained(counters).toOpaque()
        gst_pad_add_probe(pad, GstPadProbeType(rawValue: GST_PAD_PROBE_TYPE_BUFFER.rawValue | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM.rawValue),
                          watchEncoderPad, context, releaseCounters)
    }

    // MARK: - The caller's DTLS certificate

    private var certificateTimer: GLibTimer?
    private var certificateSeen = false

    /// DTLS completes shortly after ICE connects; look for the certificate every 100 ms for up to 10 s.
    private func watchRemoteCertificate() {
        var attempts = 0
        certificateTimer = GLibTimer(milliseconds: 100, repeating: true) { [weak self] in
            guard let self, !self.ended else { return }
            attempts += 1
            if let pem = self.remoteCertificate() {
                self.certificateTimer = nil
                self.certificateSeen = true
                self.onRemoteCertificate?(pem)
            } else if attempts >= 100 {
                self.certificateTimer = nil
                Log.warning("media", "no DTLS certificate from \(self.peer) 10 s after ICE connected")
            }
        }
    }

    /// The (bundled) DTLS transport's `remote-certificate`.
    private func remoteCertificate() -> String? {
        guard let transport = dtlsTransport() else { return nil }
        defer { g_object_unref(transport) }
        guard let pem = takeGString(ic_object_get_string(transport, "remote-certificate")), !pem.isEmpty else {
            return nil
        }
        return pem
    }

    /// transceiver 0 → its sender → the (bundled) `GstWebRTCDTLSTransport`, with a reference the caller drops.
    private func dtlsTransport() -> gpointer? {
        guard let webrtc, let transceiver = ic_webrtc_get_transceiver(webrtc, 0) else { return nil }
        defer { g_object_unref(transceiver) }
        guard let sender = ic_object_get_object(transceiver, "sender") else { return nil }
        defer { g_object_unref(sender) }
        return ic_object_get_object(sender, "transport")
    }

    // MARK: - The caller's DTLS session

    private var dtlsWatched = false

    /// A caller that closes its peer connection sends a DTLS close_notify, which turns the transport `closed`.
    /// That is the only hang-up signal we get when it closes before the SCTP association is up (no data channel
    /// has arrived, so there is no `on-close` to hear and no write to fail), or when it offered no data channel.
    private func watchDTLSTransport() {
        guard !dtlsWatched else { return }
        guard let transport = dtlsTransport() else {
            return Log.debug("media", "no DTLS transport to watch for \(peer)")
        }
        defer { g_object_unref(transport) }
        dtlsWatched = true
        connectSignal(transport, "notify::state", link, unsafeBitCast(onDTLSStateChanged, to: GCallback.self))
        // It may have closed already.
        dtlsStateChanged(GstWebRTCDTLSTransportState(rawValue: UInt32(ic_object_get_enum(transport, "state"))))
    }

    fileprivate func dtlsStateChanged(_ state: GstWebRTCDTLSTransportState) {
        guard !ended, hangUpTimer == nil, state == GST_WEBRTC_DTLS_TRANSPORT_STATE_CLOSED else { return }
        finish(.remoteHangUp, "the caller closed DTLS")
    }

    // MARK: - Bitrate from the peer's loss reports

    private func requestStats() {
        guard let webrtc, !ended else { return }
        let promise = makePromise(link) { link, reply in
            let counts = lossCounts(reply)
            GLibLoop.shared.post { link.session?.statsArrived(counts) }
        }
        ic_webrtc_get_stats(webrtc, promise)
        gst_promise_unref(promise)
    }

    private func statsArrived(_ counts: LossCounts?) {
        guard !ended, let counts, let codec = videoCodec, var controller = bitrate else { return }
        // Only a new receiver report says anything: between two, the figures stand still (and a second with
        // no report must not count as a clean one, or the bitrate climbs back while the link still drops).
        guard counts.expected > 0, counts.expected != lastLossCounts?.expected else { return }
        defer { lastLossCounts = (counts.lost, counts.expected) }
        guard let last = lastLossCounts, counts.expected > last.expected else { return }
        // Lost over expected between the two reports: exact whatever the reports' spacing.
        let loss = min(1, Double(max(0, counts.lost - last.lost)) / Double(counts.expected - last.expected))
        if let kbps = controller.update(lossFraction: loss) {
            if let (name, value) = SendPipeline.bitrateProperty(codec, kbps: kbps) {
                setProperty("venc", name, String(value))
            }
            counters.videoBitrateKbps.store(kbps, ordering: .relaxed)
            Log.info("media", "video bitrate \(kbps) kbit/s (\(Int((loss * 100).rounded())) % lost)")
        }
        bitrate = controller
    }

    /// Whether the peer hears `hangUp()` in-band: one of the call's data channels is open (PeerJS 1.5's
    /// auxiliary channel, whose close is the hang-up).
    public var hangUpHeardInBand: Bool {
        dataChannels.contains { ic_object_get_enum($0, "ready-state") == Int32(GST_WEBRTC_DATA_CHANNEL_STATE_OPEN.rawValue) }
    }

    /// The peer said over signaling that it hung up (its channel was not open yet to say it in-band).
    public func peerHungUp(_ detail: String) {
        finish(.remoteHangUp, detail)
    }

    /// Hangs up: closes the data channels (what a PeerJS 1.5 browser listens for), then stops the pipeline.
    public func hangUp() {
        guard !ended, hangUpTimer == nil else { return }
        Log.info("media", "hanging up \(peer) (\(connectionId))")
        for channel in dataChannels { ic_data_channel_close(channel) }
        // Just after ICE connects the caller's channel is still on its way (SCTP comes up after DTLS), and a
        // page cannot hear a hang-up without it: wait for it (dataChannelArrived closes it), at most a second.
        let channelComing = dataChannels.isEmpty && offer?.hasDataChannel == true && iceConnected
        // Give SCTP a moment to send the stream reset before DTLS goes away.
        hangUpTimer = GLibTimer(milliseconds: channelComing ? 1000 : dataChannels.isEmpty ? 0 : 150) { [weak self] in
            self?.finish(.localHangUp, nil)
        }
    }

    // MARK: - Negotiation

    private func setRemoteDescription(_ text: String, type: GstWebRTCSDPType) throws(MediaError) {
        var message: UnsafeMutablePointer<GstSDPMessage>?
        guard gst_sdp_message_new_from_text(text, &message) == GST_SDP_OK, let message else {
            throw MediaError(.badOffer, "GStreamer could not parse the remote SDP")
        }
        guard let description = gst_webrtc_session_description_new(type, message) else {
            throw MediaError(.badOffer, "could not wrap the remote SDP")
        }
        let promise = makePromise(link) { link, reply in
            let failure = promiseError(reply)
            GLibLoop.shared.post { link.session?.remoteDescriptionSet(error: failure) }
        }
        ic_webrtc_set_remote_description(webrtc, description, promise)
        gst_promise_unref(promise)
        gst_webrtc_session_description_free(description)
    }

    /// Offering: the peer's answer. Ignored when answering, after the first, or after the end.
    public func setRemoteAnswer(_ sdp: String) throws(MediaError) {
        guard isOffering, !answerGiven, !ended, webrtc != nil else { return }
        answerGiven = true
        Log.debug("media", "answer from \(peer): \(sdp.split(separator: "\r\n").joined(separator: " | "))")
        try setRemoteDescription(sdp, type: GST_WEBRTC_SDP_TYPE_ANSWER)
    }

    private func remoteDescriptionSet(error: String?) {
        guard !ended, let webrtc else { return }
        if let error { return finish(.failed, "set-remote-description failed: \(error)") }
        remoteDescriptionApplied = true
        // From here both descriptions are known and ICE is at work: the bound starts (a placed call may ring
        // for longer than it before anyone answers).
        if !iceConnected {
            connectTimer = GLibTimer(milliseconds: UInt32(WebRTCICE.connectTimeoutMillis)) { [weak self] in
                self?.connectTimedOut()
            }
        }
        for early in earlyCandidates { ic_webrtc_add_ice_candidate(webrtc, guint(early.mline), early.candidate) }
        earlyCandidates.removeAll()
        guard !isOffering else { return }
        createDescription(webrtc, offer: false, link) { link, answer, error in
            link.session?.answerCreated(answer, error: error)
        }
    }

    /// Offering: receive-only transceivers for what we do not send, the hang-up data channel, then the offer.
    private func makeOffer(receiveVideo: Bool, receiveAudio: Bool) throws(MediaError) {
        guard let webrtc else { return }
        if receiveVideo { addReceiveOnly(SendPipeline.receiveOnlyVideoCaps) }
        if receiveAudio { addReceiveOnly(SendPipeline.receiveOnlyAudioCaps) }
        // As a PeerJS 1.5 caller does: label "undefined", unordered. Closing it is our hang-up.
        let options = gst_structure_from_string("options, ordered=(boolean)false", nil)
        defer { if let options { gst_structure_free(options) } }
        guard let channel = ic_webrtc_create_data_channel(webrtc, "undefined", options) else {
            throw MediaError(.pipelineFailed, "webrtcbin would not create the call's data channel")
        }
        dataChannels.append(channel)
        connectSignal(UnsafeMutableRawPointer(channel), "on-close", link, unsafeBitCast(onDataChannelClose, to: GCallback.self))
        // webrtcbin writes a track's `a=ssrc … msid:` only once its send pad has caps (the first encoded frame):
        // without it the browser's track has no stream and the page shows no picture. So wait for them.
        var attempts = 0
        offerTimer = GLibTimer(milliseconds: 20, repeating: true) { [weak self] in
            guard let self, !self.ended else { return }
            attempts += 1
            guard self.sendPadsHaveCaps() || attempts >= 150 else { return }
            if attempts >= 150 { Log.warning("media", "calling \(self.peer): send branches gave no caps in 3 s; offering anyway") }
            self.offerTimer = nil
            self.createOffer()
        }
    }

    private var offerTimer: GLibTimer?

    /// Whether every sink pad of webrtcbin (one per send branch) has negotiated caps.
    private func sendPadsHaveCaps() -> Bool {
        guard let webrtc else { return false }
        var node = webrtc.pointee.sinkpads
        while let current = node {
            if let data = current.pointee.data,
               gst_pad_has_current_caps(data.assumingMemoryBound(to: GstPad.self)) == 0 { return false }
            node = current.pointee.next
        }
        return true
    }

    private func createOffer() {
        guard let webrtc, !ended else { return }
        createDescription(webrtc, offer: true, link) { link, offer, error in
            link.session?.offerCreated(offer, error: error)
        }
    }

    private func addReceiveOnly(_ capsText: String) {
        guard let webrtc, let caps = gst_caps_from_string(capsText) else { return }
        defer { gst_caps_unref(caps) }
        if let transceiver = ic_webrtc_add_transceiver(webrtc, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps) {
            g_object_unref(transceiver)
        }
    }

    private func offerCreated(_ offer: UnsafeMutablePointer<GstWebRTCSessionDescription>?, error: String?) {
        guard let offer else { return finish(.failed, "create-offer failed: \(error ?? "no offer in the reply")") }
        defer { gst_webrtc_session_description_free(offer) }
        guard !ended else { return }
        ic_webrtc_set_local_description(webrtc, offer, nil)
        guard let text = takeGString(gst_sdp_message_as_text(offer.pointee.sdp)) else {
            return finish(.failed, "the offer has no SDP text")
        }
        Log.debug("media", "offer to \(peer): \(text.split(separator: "\r\n").joined(separator: " | "))")
        onOffer?(text)
    }

    private func answerCreated(_ answer: UnsafeMutablePointer<GstWebRTCSessionDescription>?, error: String?) {
        guard let answer else {
            return finish(.failed, "create-answer failed: \(error ?? "no answer in the reply")")
        }
        defer { gst_webrtc_session_description_free(answer) }
        guard !ended else { return }
        ic_webrtc_set_local_description(webrtc, answer, nil)
        guard let text = takeGString(gst_sdp_message_as_text(answer.pointee.sdp)) else {
            return finish(.failed, "the answer has no SDP text")
        }
        if !text.contains("a=sendrecv") {
            Log.warning("media", "the answer to \(peer) sends nothing (recvonly): payload types did not match")
        }
        onAnswer?(text)
    }

    // MARK: - Events from GStreamer (already hopped to the GLib thread)

    fileprivate func localCandidate(mline: Int, candidate: String) {
        guard !ended else { return }
        if let type = WebRTCICE.candidateType(candidate) { localCandidateTypes.insert(type) }
        onLocalCandidate?(mline, candidate)
    }

    fileprivate func dataChannelArrived(_ channel: UnsafeMutablePointer<GObject>) {
        guard !ended else { g_object_unref(channel); return }
        dataChannels.append(channel)
        connectSignal(UnsafeMutableRawPointer(channel), "on-close", link, unsafeBitCast(onDataChannelClose, to: GCallback.self))
        if hangUpTimer != nil {
            // We hung up while it was on its way: close it, which is what the caller hears.
            ic_data_channel_close(channel)
            hangUpTimer = GLibTimer(milliseconds: 150) { [weak self] in self?.finish(.localHangUp, nil) }
        }
        Log.debug("media", "data channel from \(peer) accepted")
    }

    fileprivate func dataChannelClosed() {
        guard !ended else { return }
        finish(hangUpTimer == nil ? .remoteHangUp : .localHangUp, nil)
    }

    fileprivate func iceStateChanged(_ state: GstWebRTCICEConnectionState) {
        guard !ended else { return }
        switch state {
        case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED, GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
            // webrtcbin 1.22 moves between checking, connected and completed all through a call; only the
            // first arrival is the connection (and the moment for a keyframe).
            guard !iceConnected else { return Log.debug("media", "ICE \(state.rawValue) again with \(peer)") }
            Log.info("media", "ICE connected with \(peer)")
            iceConnected = true
            connectTimer = nil
            logSelectedPair()
            watchLiveness()
            if certificateTimer == nil, !certificateSeen { watchRemoteCertificate() }
            watchDTLSTransport()
            // A keyframe as soon as the peer can receive it: the first ones went out before DTLS was up.
            requestKeyframe()
            onConnected?()
        case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
            finish(.failed, "ICE failed; " + candidateSummary)
        case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
            if hangUpTimer == nil { finish(.remoteHangUp, "ICE closed") }
        default:
            break
        }
    }

    /// From ICE connected on, a peer silent for `MediaSettings.lostAfterMillis` ends the call as lost.
    private func watchLiveness() {
        guard let webrtc, livenessTimer == nil else { return }
        let sources = arrivals.watch(webrtc)
        guard sources > 0 else { return Log.warning("media", "no nicesrc in the call with \(peer): cannot tell if it goes away") }
        let limit = engine.settings.lostAfterMillis
        livenessTimer = GLibTimer(milliseconds: PeerArrivals.checkEveryMillis, repeating: true) { [weak self] in
            guard let self, !self.ended, self.hangUpTimer == nil else { return }
            let silence = self.arrivals.silenceMillis
            guard silence >= limit else { return }
            self.lostAfterSilenceMillis = silence
            self.finish(.lost, "nothing from the peer for \(silence) ms (\(self.arrivals.packets.load(ordering: .relaxed)) packets before)")
        }
    }

    /// Ended as `.lost`: the milliseconds from the peer's last packet to that end.
    public private(set) var lostAfterSilenceMillis: Int64?

    fileprivate func picture(_ picture: VideoPicture, kind: PictureTap.Kind) {
        guard !ended else { return }
        switch kind {
        case .caller: onRemoteVideo?(picture)
        case .selfView: onSelfView?(picture)
        }
    }

    func clockStampRead(latencyMillis: Int64) {
        guard !ended else { return }
        onClockStamp?(latencyMillis)
    }

    fileprivate func busError(source: String, _ text: String) {
        guard !ended else { return }
        // While we hang up, SCTP errors are the channel going away as asked.
        if hangUpTimer != nil { return finish(.localHangUp, nil) }
        // A browser that closes its peer connection aborts the SCTP association; the write error that follows
        // can beat the data channel's on-close. Either way the other side hung up.
        if source.hasPrefix("sctp") || source.hasPrefix("dtls") {
            return finish(.remoteHangUp, "\(source): \(text)")
        }
        finish(.failed, "\(source): \(text)")
    }

    // MARK: - Candidate pairs

    /// What each side offered, e.g. `local candidates host, srflx; remote candidates host`: says whether a
    /// STUN or TURN server answered at all when a call does not connect.
    private var candidateSummary: String {
        func list(_ types: Set<String>) -> String { types.isEmpty ? "none" : types.sorted().joined(separator: ", ") }
        return "local candidates \(list(localCandidateTypes)); remote candidates \(list(remoteCandidateTypes))"
    }

    private func connectTimedOut() {
        guard !ended, !iceConnected else { return }
        finish(.failed, "no ICE candidate pair within \(WebRTCICE.connectTimeoutMillis / 1000) s "
               + "(the caller's network cannot reach the door without TURN); " + candidateSummary)
    }

    /// Logs the selected pair's candidate types (webrtcbin's stats), e.g. `relay/srflx` through TURN.
    private func logSelectedPair() {
        guard let webrtc else { return }
        let promise = makePromise(link) { link, reply in
            let types = selectedPairTypes(reply)
            GLibLoop.shared.post { link.session?.selectedPairArrived(types) }
        }
        ic_webrtc_get_stats(webrtc, promise)
        gst_promise_unref(promise)
    }

    private func selectedPairArrived(_ types: (local: String, remote: String)?) {
        guard !ended else { return }
        guard let types else { return Log.info("media", "selected candidate pair with \(peer): unknown (no stats)") }
        selectedCandidatePair = "\(types.local)/\(types.remote)"
        Log.info("media", "selected candidate pair with \(peer): local \(types.local), remote \(types.remote)")
    }

    // MARK: - Teardown

    private func finish(_ reason: EndReason, _ detail: String?) {
        guard !ended else { return }
        ended = true
        hangUpTimer = nil
        offerTimer = nil
        statsTimer = nil
        connectTimer = nil
        certificateTimer = nil
        livenessTimer = nil
        if let detail { Log.info("media", "call with \(peer) ended (\(reason.rawValue)): \(detail)") }
        else { Log.info("media", "call with \(peer) ended (\(reason.rawValue))") }
        stopPipeline()
        let ended = onEnded
        dropCallbacks()
        ended?(reason, detail)
    }

    /// An ended session calls nobody again, and lets go of its owner's closures: one that names the session
    /// (the owner's bookkeeping usually does) would otherwise keep it alive for the life of the process.
    private func dropCallbacks() {
        onOffer = nil
        onAnswer = nil
        onLocalCandidate = nil
        onEnded = nil
        onRemoteVideo = nil
        onSelfView = nil
        onRemoteCertificate = nil
        onConnected = nil
        onClockStamp = nil
    }

    private func stopPipeline() {
        if busWatch != 0 { g_source_remove(busWatch); busWatch = 0 }
        for channel in dataChannels { g_object_unref(channel) }
        dataChannels = []
        // Stopped on the teardown thread: waiting for webrtcbin and the streaming threads here would hold the loop.
        PipelineReaper.shared.release(pipeline, webrtc: webrtc)
        pipeline = nil
        webrtc = nil
    }
}

/// The context every C callback of a session gets. `session` is written and read only on the GLib thread;
/// `counters` is Sendable. That makes sharing it with streaming threads safe.
final class SessionLink: @unchecked Sendable {
    weak var session: CallSession?
    let counters: MediaCounters
    let remoteVideoWidth: Int
    let remoteVideoFramesPerSecond: Int
    let clockStamp: Bool
    init(counters: MediaCounters, remoteVideoWidth: Int = 0, remoteVideoFramesPerSecond: Int = 15, clockStamp: Bool = false) {
        self.counters = counters
        self.clockStamp = clockStamp
        self.remoteVideoWidth = remoteVideoWidth
        self.remoteVideoFramesPerSecond = remoteVideoFramesPerSecond
        LiveSessions.opened()
    }

    deinit { LiveSessions.closed() }
}

// MARK: - C callbacks (free functions: never actor-isolated closures, see docs/architecture.md#one-process-one-loop)

private let onIceCandidate: @convention(c) (UnsafeMutablePointer<GstElement>?, guint, UnsafeMutablePointer<gchar>?,
                                            gpointer?) -> Void = { _, mline, candidate, data in
    guard let candidate, let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    let text = String(cString: candidate)
    GLibLoop.shared.post { link.session?.localCandidate(mline: Int(mline), candidate: text) }
}

private let onDataChannel: @convention(c) (UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GObject>?,
                                           gpointer?) -> Void = { _, channel, data in
    guard let channel, let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    g_object_ref(channel)
    let box = PointerBox(channel)
    GLibLoop.shared.post {
        if let session = link.session { session.dataChannelArrived(box.pointer) } else { g_object_unref(box.pointer) }
    }
}

private let onDataChannelClose: @convention(c) (UnsafeMutablePointer<GObject>?, gpointer?) -> Void = { _, data in
    guard let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    GLibLoop.shared.post { link.session?.dataChannelClosed() }
}

private let onIceStateChanged: @convention(c) (UnsafeMutablePointer<GstElement>?, gpointer?, gpointer?) -> Void = {
    webrtc, _, data in
    guard let webrtc, let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    let state = GstWebRTCICEConnectionState(rawValue: UInt32(ic_object_get_enum(webrtc, "ice-connection-state")))
    GLibLoop.shared.post { link.session?.iceStateChanged(state) }
}

private let onDTLSStateChanged: @convention(c) (UnsafeMutablePointer<GObject>?, gpointer?, gpointer?) -> Void = {
    transport, _, data in
    guard let transport, let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    let state = GstWebRTCDTLSTransportState(rawValue: UInt32(ic_object_get_enum(transport, "state")))
    GLibLoop.shared.post { link.session?.dtlsStateChanged(state) }
}

/// A remote stream appeared on webrtcbin: decode it and count what comes out. Runs on a streaming thread.
private let onWebRTCPadAdded: @convention(c) (UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GstPad>?,
                                              gpointer?) -> Void = { webrtc, pad, data in
    guard let webrtc, let pad, let data, gst_pad_get_direction(pad) == GST_PAD_SRC,
          let parent = gst_object_get_parent(cast(webrtc, to: GstObject.self)) else { return }
    defer { gst_object_unref(parent) }
    let bin = UnsafeMutablePointer<GstBin>(OpaquePointer(parent))
    guard let decodebin = gst_element_factory_make("decodebin", nil) else { return }
    connectSignal(UnsafeMutableRawPointer(decodebin), "pad-added",
                  Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue(),
                  unsafeBitCast(onDecodedPadAdded, to: GCallback.self))
    gst_bin_add(bin, decodebin)
    gst_element_sync_state_with_parent(decodebin)
    let sink = gst_element_get_static_pad(decodebin, "sink")
    gst_pad_link(pad, sink)
    gst_object_unref(sink)
}

private let onDecodedPadAdded: @convention(c) (UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GstPad>?,
                                               gpointer?) -> Void = { decodebin, pad, data in
    guard let decodebin, let pad, let data, let parent = gst_object_get_parent(cast(decodebin, to: GstObject.self)) else { return }
    defer { gst_object_unref(parent) }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    let caps = gst_pad_get_current_caps(pad) ?? gst_pad_query_caps(pad, nil)
    var isVideo = false
    if let caps {
        if let structure = gst_caps_get_structure(caps, 0), let name = gst_structure_get_name(structure) {
            isVideo = String(cString: name).hasPrefix("video/")
            if isVideo {
                var width: gint = 0, height: gint = 0
                gst_structure_get_int(structure, "width", &width)
                gst_structure_get_int(structure, "height", &height)
                link.counters.videoWidth.store(Int(width), ordering: .relaxed)
                link.counters.videoHeight.store(Int(height), ordering: .relaxed)
            }
        }
        gst_caps_unref(caps)
    }
    let bin = UnsafeMutablePointer<GstBin>(OpaquePointer(parent))
    let counter = CounterChoice(counters: link.counters, video: isVideo)
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, countBuffer, Unmanaged.passRetained(counter).toOpaque(),
                      { data in if let data { Unmanaged<CounterChoice>.fromOpaque(data).release() } })
    if isVideo, link.clockStamp { addClockStampReading(pad, link: link) }
    let sinkPad: UnsafeMutablePointer<GstPad>?
    if isVideo, link.remoteVideoWidth > 0 {
        sinkPad = addScreenBranch(to: bin, link: link)
    } else if !isVideo, let speaker = addSpeakerBranch(to: bin) {
        sinkPad = speaker
    } else {
        guard let sink = gst_element_factory_make("fakesink", nil) else { return }
        gst_util_set_object_arg(UnsafeMutablePointer<GObject>(OpaquePointer(sink)), "sync", "false")
        gst_util_set_object_arg(UnsafeMutablePointer<GObject>(OpaquePointer(sink)), "async", "false")
        gst_bin_add(bin, sink)
        gst_element_sync_state_with_parent(sink)
        sinkPad = gst_element_get_static_pad(sink, "sink")
    }
    guard let sinkPad else { return }
    gst_pad_link(pad, sinkPad)
    gst_object_unref(sinkPad)
}

/// `videoconvert ! videoscale ! BGRx ! appsink`: the caller's pictures for the device screen, scaled to its width
/// here, in the streaming thread, not on the GLib loop.
private func addScreenBranch(to bin: UnsafeMutablePointer<GstBin>, link: SessionLink) -> UnsafeMutablePointer<GstPad>? {
    // Not videorate: with WebRTC's variable frame rate (framerate 0/1) it aborts on a buffer without duration
    // (GStreamer 1.22); the appsink callback thins the pictures instead.
    let description = "videoconvert ! videoscale ! video/x-raw,format=BGRx,width=\(link.remoteVideoWidth),pixel-aspect-ratio=1/1 "
        + "! appsink name=screen sync=false async=false max-buffers=1 drop=true"
    var error: UnsafeMutablePointer<GError>?
    guard let branch = gst_parse_bin_from_description(description, 1, &error), error == nil else {
        Log.warning("media", "no screen branch for the caller's video: \(takeError(error))")
        return nil
    }
    let branchBin = UnsafeMutablePointer<GstBin>(OpaquePointer(branch))
    if let appsink = gst_bin_get_by_name(branchBin, "screen") {
        attachPictureTap(appsink, PictureTap(link: link, kind: .caller, framesPerSecond: link.remoteVideoFramesPerSecond))
        gst_object_unref(UnsafeMutableRawPointer(appsink))
    }
    gst_bin_add(bin, branch)
    gst_element_sync_state_with_parent(branch)
    let sink = gst_element_get_static_pad(branch, "sink")
    if let sink { FrameThinning.attach(to: sink, framesPerSecond: link.remoteVideoFramesPerSecond) }
    return sink
}

/// `audioconvert ! audioresample` into the static speaker mixer (`SendPipeline.speakerBranch`), which leads
/// through the echo probe to the speaker. Nil when the pipeline has no mixer.
private func addSpeakerBranch(to bin: UnsafeMutablePointer<GstBin>) -> UnsafeMutablePointer<GstPad>? {
    guard let mixer = gst_bin_get_by_name(bin, "speakermix") else { return nil }
    defer { gst_object_unref(UnsafeMutableRawPointer(mixer)) }
    var error: UnsafeMutablePointer<GError>?
    guard let branch = gst_parse_bin_from_description("audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1 ! identity",
                                                      1, &error), error == nil else {
        Log.warning("media", "no speaker branch for the caller's audio: \(takeError(error))")
        return nil
    }
    gst_bin_add(bin, branch)
    guard let mixerPad = gst_element_request_pad_simple(mixer, "sink_%u"),
          let branchSource = gst_element_get_static_pad(branch, "src") else { return nil }
    gst_pad_link(branchSource, mixerPad)
    gst_object_unref(UnsafeMutableRawPointer(branchSource))
    gst_object_unref(UnsafeMutableRawPointer(mixerPad))
    gst_element_sync_state_with_parent(branch)
    return gst_element_get_static_pad(branch, "sink")
}

/// Which picture an appsink delivers, for whom, and how often.
final class PictureTap: Sendable {
    enum Kind: Sendable { case caller, selfView }
    let link: SessionLink
    let kind: Kind
    let framesPerSecond: Int
    /// Written only by the appsink's streaming thread; atomic so the type stays honestly Sendable.
    let lastPictureMicros = Atomic<Int64>(0)
    init(link: SessionLink, kind: Kind, framesPerSecond: Int) {
        self.link = link; self.kind = kind; self.framesPerSecond = max(1, framesPerSecond)
    }
}

/// Hands `appsink`'s pictures to the session through `tap` (the callbacks hold a reference to it).
func attachPictureTap(_ appsink: UnsafeMutablePointer<GstElement>, _ tap: PictureTap) {
    var callbacks = GstAppSinkCallbacks()
    callbacks.new_sample = onPictureSample
    gst_app_sink_set_callbacks(UnsafeMutablePointer<GstAppSink>(OpaquePointer(appsink)), &callbacks,
                               Unmanaged.passRetained(tap).toOpaque(),
                               { data in if let data { Unmanaged<PictureTap>.fromOpaque(data).release() } })
}

/// Copies one scaled picture out of the appsink and hops to the GLib thread with it, at most
/// `framesPerSecond` times a second.
private let onPictureSample: @convention(c) (UnsafeMutablePointer<GstAppSink>?, gpointer?) -> GstFlowReturn = {
    appsink, data in
    guard let appsink, let data, let sample = gst_app_sink_pull_sample(appsink) else { return GST_FLOW_OK }
    defer { gst_sample_unref(sample) }
    let tap = Unmanaged<PictureTap>.fromOpaque(data).takeUnretainedValue()
    let now = monotonicMicros()
    guard now - tap.lastPictureMicros.load(ordering: .relaxed) >= Int64(750_000 / tap.framesPerSecond) else {
        return GST_FLOW_OK
    }
    tap.lastPictureMicros.store(now, ordering: .relaxed)
    var info = GstVideoInfo()
    guard let caps = gst_sample_get_caps(sample), gst_video_info_from_caps(&info, caps) != 0,
          let buffer = gst_sample_get_buffer(sample) else { return GST_FLOW_OK }
    var map = GstMapInfo()
    guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return GST_FLOW_OK }
    defer { gst_buffer_unmap(buffer, &map) }
    let width = Int(info.width), height = Int(info.height), stride = Int(info.stride.0)
    guard stride * height <= Int(map.size), let bytes = map.data else { return GST_FLOW_OK }
    let picture = VideoPicture(width: width, height: height, stride: stride,
                               pixels: Array(UnsafeBufferPointer(start: bytes, count: stride * height)))
    let link = tap.link, kind = tap.kind
    GLibLoop.shared.post { link.session?.picture(picture, kind: kind) }
    return GST_FLOW_OK
}

private final class CounterChoice: Sendable {
    let counters: MediaCounters
    let video: Bool
    init(counters: MediaCounters, video: Bool) { self.counters = counters; self.video = video }
}

private let countBuffer: GstPadProbeCallback = { _, _, data in
    guard let data else { return GST_PAD_PROBE_OK }
    let choice = Unmanaged<CounterChoice>.fromOpaque(data).takeUnretainedValue()
    if choice.video {
        choice.counters.videoFramesDecoded.add(1, ordering: .relaxed)
    } else {
        choice.counters.audioBuffersDecoded.add(1, ordering: .relaxed)
    }
    return GST_PAD_PROBE_OK
}

private let onBusMessage: GstBusFunc = { _, message, data in
    guard let message, let data else { return 1 }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    switch message.pointee.type {
    case GST_MESSAGE_ERROR:
        var error: UnsafeMutablePointer<GError>?
        var debug: UnsafeMutablePointer<gchar>?
        gst_message_parse_error(message, &error, &debug)
        g_free(debug)
        let text = takeError(error)
        let source = message.pointee.src.map { String(cString: $0.pointee.name) } ?? "?"
        // A visit clip's branch failing (a full card) is the clip's problem, not the call's (docs/visits.md).
        if let src = message.pointee.src, ClipRecorder.isInsideClip(src) {
            Log.warning("media", "visit clip: \(source): \(text); the call goes on")
            break
        }
        GLibActor.assumeIsolated { link.session?.busError(source: source, text) }
    case GST_MESSAGE_WARNING:
        var error: UnsafeMutablePointer<GError>?
        var debug: UnsafeMutablePointer<gchar>?
        gst_message_parse_warning(message, &error, &debug)
        g_free(debug)
        Log.debug("media", "GStreamer warning: \(takeError(error))")
    default:
        break
    }
    return 1 // keep watching
}

/// Not a closure literal inside `watchEncoder`: that one inherits the actor's isolation, and GStreamer calls it on
/// a streaming thread when the probe goes away (Swift's runtime check aborted the process at a call's end).
private let releaseCounters: GDestroyNotify = { data in
    if let data { Unmanaged<MediaCounters>.fromOpaque(data).release() }
}

private let releaseLink: GDestroyNotify = { data in
    if let data { Unmanaged<SessionLink>.fromOpaque(data).release() }
}

/// Carries a GObject pointer across the hop to the GLib thread (the reference it holds was taken before).
private struct PointerBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<GObject>
    init(_ pointer: UnsafeMutablePointer<GObject>) { self.pointer = pointer }
}

/// A copied session description; safe to move to the GLib thread (nobody else holds it).
struct DescriptionBox: @unchecked Sendable {
    let value: UnsafeMutablePointer<GstWebRTCSessionDescription>
}

/// `promise-change` callbacks run on webrtcbin's thread; `run` copies what it needs and hops.
final class PromiseHandler: @unchecked Sendable {
    // Immutable after init.
    let run: @Sendable (PromiseOutcome) -> Void
    init(run: @escaping @Sendable (PromiseOutcome) -> Void) { self.run = run }
}

/// How a promise ended. A successful `set-*-description` replies with no structure at all.
enum PromiseOutcome {
    case replied(UnsafePointer<GstStructure>?)
    case interrupted
}

/// A promise whose reply goes to `body` with `link` (a call's or a data connection's callback context).
func makePromise<Link: Sendable>(_ link: Link, _ body: @escaping @Sendable (Link, PromiseOutcome) -> Void)
    -> UnsafeMutablePointer<GstPromise> {
    let handler = Unmanaged.passRetained(PromiseHandler { body(link, $0) }).toOpaque()
    return gst_promise_new_with_change_func({ promise, data in
        guard let promise, let data else { return }
        let handler = Unmanaged<PromiseHandler>.fromOpaque(data).takeUnretainedValue()
        guard gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED else { return handler.run(.interrupted) }
        handler.run(.replied(gst_promise_get_reply(promise)))
    }, handler, { data in if let data { Unmanaged<PromiseHandler>.fromOpaque(data).release() } })
}

/// webrtcbin reports a failed operation as an "error" GError field in the reply.
func promiseError(_ outcome: PromiseOutcome) -> String? {
    guard case .replied(let reply) = outcome else { return "interrupted" }
    guard let reply else { return nil }
    guard gst_structure_has_field(reply, "error") != 0, let value = gst_structure_get_value(reply, "error"),
          let boxed = g_value_get_boxed(value) else { return nil }
    let error = boxed.assumingMemoryBound(to: GError.self)
    return error.pointee.message.map { String(cString: $0) } ?? "error"
}

/// Asks webrtcbin for an offer (or an answer); `deliver` gets the copied description, or the error, on the GLib
/// loop. One place for what both session kinds do, in both roles.
func createDescription<Link: Sendable>(
    _ webrtc: UnsafeMutablePointer<GstElement>, offer: Bool, _ link: Link,
    deliver: @escaping @Sendable @GLibActor (Link, UnsafeMutablePointer<GstWebRTCSessionDescription>?, String?) -> Void
) {
    let field = offer ? "offer" : "answer"
    let promise = makePromise(link) { link, reply in
        let failure = promiseError(reply)
        let description = failure == nil ? copyDescription(reply, field: field) : nil
        GLibLoop.shared.post { deliver(link, description?.value, failure) }
    }
    if offer { ic_webrtc_create_offer(webrtc, promise) } else { ic_webrtc_create_answer(webrtc, promise) }
    gst_promise_unref(promise)
}

func copyDescription(_ outcome: PromiseOutcome, field: String) -> DescriptionBox? {
    guard case .replied(let reply?) = outcome, let value = gst_structure_get_value(reply, field), let boxed = g_value_get_boxed(value),
          let copy = gst_webrtc_session_description_copy(boxed.assumingMemoryBound(to: GstWebRTCSessionDescription.self))
    else { return nil }
    return DescriptionBox(value: copy)
}

// MARK: - Encoder watch and stats (streaming threads)

private let watchEncoderPad: GstPadProbeCallback = { _, info, data in
    guard let info, let data else { return GST_PAD_PROBE_OK }
    let counters = Unmanaged<MediaCounters>.fromOpaque(data).takeUnretainedValue()
    if info.pointee.type.rawValue & GST_PAD_PROBE_TYPE_BUFFER.rawValue != 0 {
        let buffer = info.pointee.data.assumingMemoryBound(to: GstBuffer.self)
        if buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0 {
            counters.keyframesSent.add(1, ordering: .relaxed)
        }
    } else if let event = info.pointee.data?.assumingMemoryBound(to: GstEvent.self),
              gst_video_event_is_force_key_unit(event) != 0 {
        counters.keyframeRequests.add(1, ordering: .relaxed)
    }
    return GST_PAD_PROBE_OK
}

/// Packets the peer reports lost (RTCP receiver reports) and packets we sent, summed over our streams, and
/// the largest `fraction-lost` of the last report when webrtcbin gives it.
/// What the peer's receiver reports say, summed over our streams: packets lost so far, and the extended
/// highest sequence number received (the packets expected so far, plus each stream's start).
struct LossCounts: Sendable {
    var lost = 0
    var expected = 0
}

func lossCounts(_ outcome: PromiseOutcome) -> LossCounts? {
    guard case .replied(let reply?) = outcome else { return nil }
    var counts = LossCounts()
    let structureType = gst_structure_get_type()
    for index in 0..<gst_structure_n_fields(reply) {
        guard let name = gst_structure_nth_field_name(reply, guint(index)),
              let value = gst_structure_get_value(reply, name), g_type_check_value_holds(value, structureType) != 0,
              let stats = gst_value_get_structure(value) else { continue }
        var type: gint = 0
        guard gst_structure_get_enum(stats, "type", gst_webrtc_stats_type_get_type(), &type) != 0 else { continue }
        guard type == gint(GST_WEBRTC_STATS_REMOTE_INBOUND_RTP.rawValue) else { continue }
        // The report block itself is in the rtpsource's stats: have-rb, rb-packetslost, rb-exthighestseq.
        guard let sourceValue = gst_structure_get_value(stats, "gst-rtpsource-stats"),
              g_type_check_value_holds(sourceValue, structureType) != 0,
              let source = gst_value_get_structure(sourceValue) else { continue }
        var haveReport: gboolean = 0, lost: gint = 0, highest: guint = 0
        guard gst_structure_get_boolean(source, "have-rb", &haveReport) != 0, haveReport != 0,
              gst_structure_get_int(source, "rb-packetslost", &lost) != 0,
              gst_structure_get_uint(source, "rb-exthighestseq", &highest) != 0 else { continue }
        counts.lost += Int(max(0, lost))
        counts.expected += Int(highest)
    }
    return counts
}
