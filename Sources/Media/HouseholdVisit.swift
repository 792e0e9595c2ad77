import CGStreamer
import DoorCore
import MainLoop

/// A household visit's media once a second phone joins the first one's call (docs/household.md): the first
/// call's pipeline — camera, the one H.264 encoder, the one Opus encoder, the speaker mixer — shared by one
/// webrtcbin per phone. Each phone has its own payloaders behind the encoders' tees (`enctee`, `opustee`),
/// its own webrtcbin (its own ICE, DTLS and offer/answer), and its voice decoded into `speakermix`.
///
/// The visit, not the first call, owns the pipeline from the moment it forms: a phone that leaves — the first
/// one included — has its branches cut out with idle probes while the others keep flowing, and the pipeline
/// stops (on the teardown thread) only when the last phone leaves. The visit also owns the bus watch, and
/// routes an error to the phone whose elements raised it. Keyframe requests from every phone (a join, a PLI)
/// go through one `KeyframeRequester`, so several phones on lossy links cannot flood the encoder.
@GLibActor
final class HouseholdVisit {
    /// The pipeline's one reference, taken over from the first call.
    private var pipeline: UnsafeMutablePointer<GstElement>?
    private struct Member {
        weak var session: CallSession?
        /// The session holds the reference.
        let webrtc: UnsafeMutablePointer<GstElement>
    }
    /// The phones on the visit, by their sessions.
    private var members: [ObjectIdentifier: Member] = [:]
    private var busWatch: guint = 0
    private let keyframes: KeyframeRequester
    private let link: HouseholdVisitLink
    /// Each phone's bitrate estimate (its `BitrateController`, from its loss reports); the encoder runs at the
    /// lowest (`VisitBitrate`).
    private var estimates: [ObjectIdentifier: Int] = [:]
    private let rule: VisitBitrate
    /// The rate the encoder was last set to, and the property that takes it (nil: it cannot change live).
    private var encoderKbps: Int
    private let codec: SendPipeline.VideoCodec?

    static let videoTee = "enctee"
    static let audioTee = "opustee"

    /// Forms the visit around `host`'s running call: takes over its pipeline and its bus watch.
    init(host: CallSession) throws(MediaError) {
        guard let pipeline = host.elements.pipeline, let webrtc = host.elements.webrtc, !host.isEnded,
              host.negotiation.remoteDescriptionApplied else {
            throw MediaError(.pipelineFailed, "the visit's first call is not running yet")
        }
        let bin = cast(pipeline, to: GstBin.self)
        guard let videoTee = gst_bin_get_by_name(bin, Self.videoTee) else {
            throw MediaError(.pipelineFailed, "the call pipeline has no tee after its encoder (visits.max_phones is 1?)")
        }
        gst_object_unref(UnsafeMutableRawPointer(videoTee))
        self.pipeline = pipeline
        rule = VisitBitrate(ceilingKbps: host.engine.plan.bitrateKbps)
        encoderKbps = host.counters.videoBitrateKbps.load(ordering: .relaxed)
        codec = host.sending.videoCodec
        keyframes = KeyframeRequester(pipeline: pipeline)
        link = HouseholdVisitLink()
        link.visit = self
        members[ObjectIdentifier(host)] = Member(session: host, webrtc: webrtc)
        let bus = gst_element_get_bus(pipeline)
        // One watch per bus: the call's goes, the visit's (which routes errors per phone) comes.
        if host.elements.busWatch != 0 {
            gst_bus_remove_watch(bus)
            host.elements.busWatch = 0
        }
        busWatch = gst_bus_add_watch_full(bus, G_PRIORITY_DEFAULT, onVisitBusMessage,
                                          Unmanaged.passRetained(link).toOpaque(), releaseVisitLink)
        gst_object_unref(UnsafeMutableRawPointer(bus))
        if let branch = Self.sendBranch(of: webrtc, video: true) {
            branch.elements.forEach { gst_object_unref(UnsafeMutableRawPointer($0)) }
            if let teePad = branch.teePad {
                gateKeyframeRequests(teePad)
                gst_object_unref(UnsafeMutableRawPointer(teePad))
            }
        }
        Log.info("media", "visit: \(host.peer)'s call is now a household visit")
    }

    /// How many phones are on.
    var phoneCount: Int { members.count }

    /// Adds `session`'s webrtcbin and its payloaders to the running pipeline, with the payload types of its
    /// offer, and links them to the encoders' tees. Its voice joins the mixer when webrtcbin adds its pad
    /// (`onWebRTCPadAdded`, as for any call). `prepare` gets the webrtcbin before anything flows into it (ICE
    /// servers, signal handlers). Sets the session's `pipeline` (borrowed) and `webrtc` (owned).
    func add(_ session: CallSession, offer: SDPOffer, jitterLatencyMillis: Int,
             prepare: (UnsafeMutablePointer<GstElement>) -> Void) throws(MediaError) {
        guard let pipeline else { throw MediaError(.pipelineFailed, "the visit has ended") }
        let bin = cast(pipeline, to: GstBin.self)
        let video = offer.section("video")?.section.direction == "sendonly" ? nil : offer.preferredH264()?.type
        let hasAudioTee = gst_bin_get_by_name(bin, Self.audioTee).map { gst_object_unref(UnsafeMutableRawPointer($0)); return true } ?? false
        let audio = offer.section("audio")?.section.direction == "sendonly" || !hasAudioTee ? nil : offer.preferredOpus()?.type
        guard video != nil || audio != nil else {
            throw MediaError(.noUsableCodec, "\(session.peer) offers neither H.264 (packetization-mode 1) nor Opus")
        }
        guard let webrtc = gst_element_factory_make("webrtcbin", nil) else {
            throw MediaError(.missingElement, "GStreamer element webrtcbin is missing: install gstreamer1.0-plugins-bad")
        }
        let object = UnsafeMutablePointer<GObject>(OpaquePointer(webrtc))
        gst_util_set_object_arg(object, "bundle-policy", "max-bundle")
        gst_util_set_object_arg(object, "latency", String(jitterLatencyMillis))
        gst_object_ref(UnsafeMutableRawPointer(webrtc)) // the session's reference; the bin sinks the floating one
        gst_bin_add(bin, webrtc)
        prepare(webrtc)
        var branches: [(element: UnsafeMutablePointer<GstElement>, tee: String)] = []
        func fail(_ error: MediaError) -> MediaError {
            for branch in branches { gst_element_set_state(branch.element, GST_STATE_NULL); gst_bin_remove(bin, branch.element) }
            gst_element_set_state(webrtc, GST_STATE_NULL)
            gst_bin_remove(bin, webrtc)
            gst_object_unref(UnsafeMutableRawPointer(webrtc))
            return error
        }
        let queue = "queue max-size-buffers=0 max-size-bytes=0 max-size-time=200000000 leaky=downstream"
        var descriptions: [(String, String)] = []
        if let video {
            descriptions.append((queue + " ! h264parse config-interval=-1"
                + " ! rtph264pay pt=\(video) config-interval=-1 aggregate-mode=zero-latency"
                + " ! capsfilter caps=\"application/x-rtp,media=video,encoding-name=H264,payload=\(video),clock-rate=90000\"",
                Self.videoTee))
        }
        if let audio {
            descriptions.append((queue + " ! rtpopuspay pt=\(audio)"
                + " ! capsfilter caps=\"application/x-rtp,media=audio,encoding-name=OPUS,payload=\(audio),clock-rate=48000\"",
                Self.audioTee))
        }
        for (description, tee) in descriptions {
            var error: UnsafeMutablePointer<GError>?
            guard let branch = gst_parse_bin_from_description(description, 1, &error), error == nil else {
                throw fail(MediaError(.missingElement, "visit branch: \(takeError(error))"))
            }
            gst_bin_add(bin, branch)
            branches.append((branch, tee))
            guard let source = gst_element_get_static_pad(branch, "src"),
                  let sink = gst_element_request_pad_simple(webrtc, "sink_%u") else {
                throw fail(MediaError(.pipelineFailed, "webrtcbin gave no sink pad for \(session.peer)"))
            }
            let linked = gst_pad_link(source, sink)
            gst_object_unref(UnsafeMutableRawPointer(source))
            gst_object_unref(UnsafeMutableRawPointer(sink))
            guard linked == GST_PAD_LINK_OK else { throw fail(MediaError(.pipelineFailed, "a send branch would not link to webrtcbin")) }
        }
        // Downstream first: nothing may push into an element that is not playing yet.
        gst_element_sync_state_with_parent(webrtc)
        for branch in branches { gst_element_sync_state_with_parent(branch.element) }
        for branch in branches {
            guard let tee = gst_bin_get_by_name(bin, branch.tee) else {
                throw fail(MediaError(.pipelineFailed, "the call pipeline has no \(branch.tee)"))
            }
            defer { gst_object_unref(UnsafeMutableRawPointer(tee)) }
            guard let teePad = gst_element_request_pad_simple(tee, "src_%u") else {
                throw fail(MediaError(.pipelineFailed, "\(branch.tee) gave no pad"))
            }
            defer { gst_object_unref(UnsafeMutableRawPointer(teePad)) }
            if branch.tee == Self.videoTee { gateKeyframeRequests(teePad) }
            guard let sink = gst_element_get_static_pad(branch.element, "sink") else {
                gst_element_release_request_pad(tee, teePad)
                throw fail(MediaError(.pipelineFailed, "a send branch has no sink pad"))
            }
            defer { gst_object_unref(UnsafeMutableRawPointer(sink)) }
            guard gst_pad_link(teePad, sink) == GST_PAD_LINK_OK else {
                gst_element_release_request_pad(tee, teePad)
                throw fail(MediaError(.pipelineFailed, "\(branch.tee) would not link to \(session.peer)'s branch"))
            }
        }
        members[ObjectIdentifier(session)] = Member(session: session, webrtc: webrtc)
        session.elements.pipeline = pipeline
        session.elements.webrtc = webrtc
        session.household = self
        Log.info("media", "visit: \(session.peer) joins; \(members.count) phone(s) on")
        keyframes.request()
    }

    /// A phone's session ended (`CallSession.stopPipeline`): its branches leave the pipeline and stop on the
    /// teardown thread; the last phone stops the whole pipeline. Takes over the session's `webrtc` reference.
    func leave(_ id: ObjectIdentifier, webrtc: UnsafeMutablePointer<GstElement>?) {
        guard members.removeValue(forKey: id) != nil, let pipeline else {
            if let webrtc { gst_object_unref(UnsafeMutableRawPointer(webrtc)) }
            return
        }
        guard !members.isEmpty else {
            Log.info("media", "visit: the last phone left; stopping the pipeline")
            stop()
            return PipelineReaper.shared.release(pipeline, webrtc: webrtc)
        }
        guard let webrtc else { return }
        forgetEstimate(id)
        cut(webrtc, from: pipeline)
        Log.info("media", "visit: a phone left; \(members.count) phone(s) on")
    }

    /// Asks the one encoder for a keyframe, at most once per second whoever asks.
    func requestKeyframe() { keyframes.request() }

    /// A phone's controller moved its estimate: the rate the encoder runs at now, the lowest phone's (which the
    /// caller sets, and reports as its own).
    func encoderBitrate(_ kbps: Int, from session: CallSession) -> Int {
        estimates[ObjectIdentifier(session)] = kbps
        encoderKbps = rule.target(estimatesKbps: Array(estimates.values))
        return encoderKbps
    }

    /// A phone left: without its estimate the encoder may go back up.
    private func forgetEstimate(_ id: ObjectIdentifier) {
        guard estimates.removeValue(forKey: id) != nil, let pipeline, let codec else { return }
        let target = rule.target(estimatesKbps: Array(estimates.values))
        guard target != encoderKbps, let (name, value) = SendPipeline.bitrateProperty(codec, kbps: target),
              let encoder = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "venc") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(encoder)) }
        gst_util_set_object_arg(UnsafeMutablePointer<GObject>(OpaquePointer(encoder)), name, String(value))
        encoderKbps = target
        Log.info("media", "visit: video bitrate \(target) kbit/s (a phone with a lower estimate left)")
    }

    private func stop() {
        if busWatch != 0 { g_source_remove(busWatch); busWatch = 0 }
        keyframes.cancel()
        link.visit = nil
        pipeline = nil
    }

    // MARK: - Cutting a phone out

    /// Unlinks `webrtc`'s send branches from the tees and its decoded voice from the mixer (each pad only while no
    /// buffer passes it), takes every element of that phone out of the pipeline and stops them off the loop.
    private func cut(_ webrtc: UnsafeMutablePointer<GstElement>, from pipeline: UnsafeMutablePointer<GstElement>) {
        let bin = cast(pipeline, to: GstBin.self)
        var leaving: [UnsafeMutablePointer<GstElement>] = []
        for video in [true, false] {
            guard let branch = Self.sendBranch(of: webrtc, video: video) else { continue }
            leaving += branch.elements
            if let teePad = branch.teePad {
                unlinkWhenIdle(teePad)
                if let tee = gst_pad_get_parent_element(teePad) {
                    gst_element_release_request_pad(tee, teePad)
                    gst_object_unref(UnsafeMutableRawPointer(tee))
                }
                gst_object_unref(UnsafeMutableRawPointer(teePad))
            }
        }
        let received = Self.receiveElements(of: webrtc)
        for pad in received.mixerLinks {
            // `pad` is the phone's last element's source pad; its peer is the mixer's request pad.
            if let mixerPad = gst_pad_get_peer(pad) {
                unlinkWhenIdle(pad)
                if let mixer = gst_pad_get_parent_element(mixerPad) {
                    gst_element_release_request_pad(mixer, mixerPad)
                    gst_object_unref(UnsafeMutableRawPointer(mixer))
                }
                gst_object_unref(UnsafeMutableRawPointer(mixerPad))
            }
            gst_object_unref(UnsafeMutableRawPointer(pad))
        }
        leaving += received.elements
        // Our own references keep them alive out of the bin until the teardown thread stops them.
        gst_object_ref(UnsafeMutableRawPointer(webrtc))
        gst_bin_remove(bin, webrtc)
        for element in leaving { gst_bin_remove(bin, element) }
        let box = LeavingElements(webrtc: webrtc, elements: leaving)
        PipelineReaper.shared.onTeardownThread {
            // webrtcbin first (its streaming threads feed the decoders), with the settling a whole pipeline gets:
            // the session's reference and ours.
            releaseWebRTCPipeline(box.webrtc, webrtc: box.webrtc)
            for element in box.elements {
                gst_element_set_state(element, GST_STATE_NULL)
                gst_object_unref(UnsafeMutableRawPointer(element))
            }
        }
    }

    /// The elements between a tee and `webrtc`'s video (or audio) sink pad, each with a reference the caller
    /// owns, and the tee's source pad feeding them (referenced too).
    nonisolated static func sendBranch(of webrtc: UnsafeMutablePointer<GstElement>, video: Bool)
        -> (elements: [UnsafeMutablePointer<GstElement>], teePad: UnsafeMutablePointer<GstPad>?)? {
        for sinkPad in pads(of: webrtc, source: false) {
            defer { gst_object_unref(UnsafeMutableRawPointer(sinkPad)) }
            guard isMedia(sinkPad, video: video) else { continue }
            var elements: [UnsafeMutablePointer<GstElement>] = []
            var pad: UnsafeMutablePointer<GstPad>? = gst_pad_get_peer(sinkPad)
            while let current = pad {
                guard let element = gst_pad_get_parent_element(current) else {
                    gst_object_unref(UnsafeMutableRawPointer(current))
                    break
                }
                if factoryName(element) == "tee" {
                    gst_object_unref(UnsafeMutableRawPointer(element))
                    return (elements, current)
                }
                gst_object_unref(UnsafeMutableRawPointer(current))
                elements.append(element)
                pad = gst_element_get_static_pad(element, "sink").flatMap { sink in
                    defer { gst_object_unref(UnsafeMutableRawPointer(sink)) }
                    return gst_pad_get_peer(sink)
                }
            }
            return (elements, nil)
        }
        return nil
    }

    /// Everything `webrtc`'s received streams flow through (decoders, the screen's branch, the speaker branch),
    /// up to but not including the mixer; and the source pads linked into the mixer. All referenced.
    nonisolated static func receiveElements(of webrtc: UnsafeMutablePointer<GstElement>)
        -> (elements: [UnsafeMutablePointer<GstElement>], mixerLinks: [UnsafeMutablePointer<GstPad>]) {
        var elements: [UnsafeMutablePointer<GstElement>] = []
        var mixerLinks: [UnsafeMutablePointer<GstPad>] = []
        var pending = pads(of: webrtc, source: true)
        while let pad = pending.popLast() {
            guard let peer = gst_pad_get_peer(pad) else { gst_object_unref(UnsafeMutableRawPointer(pad)); continue }
            defer { gst_object_unref(UnsafeMutableRawPointer(peer)) }
            guard let element = gst_pad_get_parent_element(peer) else { gst_object_unref(UnsafeMutableRawPointer(pad)); continue }
            if factoryName(element) == "audiomixer" {
                gst_object_unref(UnsafeMutableRawPointer(element))
                mixerLinks.append(pad)
                continue
            }
            gst_object_unref(UnsafeMutableRawPointer(pad))
            if elements.contains(element) { gst_object_unref(UnsafeMutableRawPointer(element)); continue }
            elements.append(element)
            pending += pads(of: element, source: true)
        }
        return (elements, mixerLinks)
    }

    // MARK: - Errors and keyframes

    /// An error on the visit's bus: the phone whose elements raised it ends; an error in what all phones share
    /// (camera, encoders, mixer, speaker) ends them all, as it would end a single call.
    fileprivate func busError(from source: UnsafeMutablePointer<GstObject>?, name: String, _ text: String) {
        guard let pipeline else { return }
        let top = source.flatMap { Self.topElement($0, in: pipeline) }
        guard let top else {
            // Already cut out of the pipeline: a phone that left.
            return Log.debug("media", "visit: \(name) (left already): \(text)")
        }
        defer { gst_object_unref(UnsafeMutableRawPointer(top)) }
        for member in members.values {
            let webrtc = member.webrtc
            let received = Self.receiveElements(of: webrtc)
            let sent = [true, false].compactMap { Self.sendBranch(of: webrtc, video: $0) }
            let owned = top == webrtc || received.elements.contains(top) || sent.contains { $0.elements.contains(top) }
            received.elements.forEach { gst_object_unref(UnsafeMutableRawPointer($0)) }
            received.mixerLinks.forEach { gst_object_unref(UnsafeMutableRawPointer($0)) }
            for branch in sent {
                branch.elements.forEach { gst_object_unref(UnsafeMutableRawPointer($0)) }
                branch.teePad.map { gst_object_unref(UnsafeMutableRawPointer($0)) }
            }
            if owned { return member.session?.busError(source: name, text) ?? () }
        }
        Log.warning("media", "visit: \(name): \(text); every phone's call ends")
        for member in Array(members.values) { member.session?.busError(source: name, text) }
    }

    /// The child of `pipeline` that holds `object` (referenced), or nil when it is no longer in the pipeline.
    private static func topElement(_ object: UnsafeMutablePointer<GstObject>,
                                   in pipeline: UnsafeMutablePointer<GstElement>) -> UnsafeMutablePointer<GstElement>? {
        let root = UnsafeMutableRawPointer(pipeline)
        var current = object
        gst_object_ref(UnsafeMutableRawPointer(current))
        while let parent = gst_object_get_parent(current) {
            if UnsafeMutableRawPointer(parent) == root {
                gst_object_unref(UnsafeMutableRawPointer(parent))
                return cast(current, to: GstElement.self)
            }
            gst_object_unref(UnsafeMutableRawPointer(current))
            current = parent
        }
        gst_object_unref(UnsafeMutableRawPointer(current))
        return nil
    }

    /// PLIs and FIRs from a phone reach the encoder through the gate, not straight up the tee.
    private func gateKeyframeRequests(_ teePad: UnsafeMutablePointer<GstPad>) {
        gst_pad_add_probe(teePad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, holdKeyframeRequest,
                          Unmanaged.passRetained(link).toOpaque(), releaseVisitLink)
    }

    // MARK: - Pads

    /// Every source (or sink) pad of `element`, referenced.
    nonisolated static func pads(of element: UnsafeMutablePointer<GstElement>, source: Bool) -> [UnsafeMutablePointer<GstPad>] {
        var found: [UnsafeMutablePointer<GstPad>] = []
        // The iterator, not the pad list: webrtcbin adds source pads from streaming threads.
        guard let iterator = source ? gst_element_iterate_src_pads(element) : gst_element_iterate_sink_pads(element) else {
            return []
        }
        defer { gst_iterator_free(iterator) }
        var value = GValue()
        defer { g_value_unset(&value) }
        loop: while true {
            switch gst_iterator_next(iterator, &value) {
            case GST_ITERATOR_OK:
                if let object = g_value_get_object(&value) {
                    gst_object_ref(object)
                    found.append(object.assumingMemoryBound(to: GstPad.self))
                }
                g_value_reset(&value)
            case GST_ITERATOR_RESYNC:
                found.forEach { gst_object_unref(UnsafeMutableRawPointer($0)) }
                found.removeAll()
                gst_iterator_resync(iterator)
            default:
                break loop
            }
        }
        return found
    }

    private nonisolated static func isMedia(_ pad: UnsafeMutablePointer<GstPad>, video: Bool) -> Bool {
        guard let caps = gst_pad_get_current_caps(pad) ?? gst_pad_peer_query_caps(pad, nil) else { return false }
        defer { gst_caps_unref(caps) }
        guard gst_caps_get_size(caps) > 0, let structure = gst_caps_get_structure(caps, 0),
              let media = gst_structure_get_string(structure, "media") else { return false }
        return String(cString: media) == (video ? "video" : "audio")
    }

    private nonisolated static func factoryName(_ element: UnsafeMutablePointer<GstElement>) -> String {
        guard let factory = gst_element_get_factory(element) else { return "" }
        return takeGString(gst_object_get_name(UnsafeMutablePointer<GstObject>(factory))) ?? ""
    }
}

/// What C callbacks of the visit hold: a weak reference, read only on the loop thread.
final class HouseholdVisitLink: @unchecked Sendable {
    weak var visit: HouseholdVisit?
}

/// A phone's elements on their way to the teardown thread; nothing else holds these references.
private struct LeavingElements: @unchecked Sendable {
    let webrtc: UnsafeMutablePointer<GstElement>
    let elements: [UnsafeMutablePointer<GstElement>]
}

private let releaseVisitLink: GDestroyNotify = { data in
    if let data { Unmanaged<HouseholdVisitLink>.fromOpaque(data).release() }
}

private let onVisitBusMessage: GstBusFunc = { _, message, data in
    guard let message, let data else { return 1 }
    let link = Unmanaged<HouseholdVisitLink>.fromOpaque(data).takeUnretainedValue()
    switch message.pointee.type {
    case GST_MESSAGE_ERROR:
        let (source, text) = busProblem(message)
        if ClipRecorder.tookError(message, source: source, text) { break }
        // The message (and its source) lives through this callback, which runs on the loop thread.
        let address = UInt(bitPattern: message.pointee.src)
        GLibActor.assumeIsolated {
            link.visit?.busError(from: UnsafeMutablePointer<GstObject>(bitPattern: address), name: source, text)
        }
    case GST_MESSAGE_WARNING:
        Log.debug("media", "GStreamer warning: \(busProblem(message).text)")
    default:
        break
    }
    return 1
}

/// Runs on a streaming thread: a force-key-unit event from a phone's payloader is dropped here and asked of
/// the gate on the loop instead.
private let holdKeyframeRequest: GstPadProbeCallback = { _, info, data in
    guard let info, let data, let raw = info.pointee.data else { return GST_PAD_PROBE_OK }
    let event = raw.assumingMemoryBound(to: GstEvent.self)
    guard gst_video_event_is_force_key_unit(event) != 0 else { return GST_PAD_PROBE_OK }
    let link = Unmanaged<HouseholdVisitLink>.fromOpaque(data).takeUnretainedValue()
    GLibLoop.shared.post { link.visit?.requestKeyframe() }
    return GST_PAD_PROBE_DROP
}
