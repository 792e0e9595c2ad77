import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop

/// One PeerJS data connection with one peer: a pipeline holding only `webrtcbin` and one in-band (DCEP) data
/// channel, either side (docs/signaling.md#data-connections):
/// * answering: takes the peer's offer (a single `m=application` section) and the channel the peer opens;
/// * offering: creates the channel (PeerJS's label and `ordered` options), reports its offer as `.offer`
///   and takes the peer's answer in `setRemoteAnswer`.
///
/// Remote candidates that arrive before the remote description is set are kept and added after it. Messages
/// that arrive before webrtcbin says the channel is open are held and delivered right after `.open`, so an
/// owner that answers a `.message` can always `send`.
/// It moves messages as they are (text or bytes); what they mean (BinaryPack, JSON) is the owner's business.
@GLibActor
public final class DataSession {
    /// One data-channel message.
    public enum Message: Sendable, Equatable {
        case text(String)
        case bytes([UInt8])
    }

    /// Which side of the negotiation this session is.
    public enum Role: Sendable, Equatable {
        /// The peer offered (this SDP); we answer.
        case answering(offerSDP: String)
        /// We offer, creating a channel with this label; `ordered` is PeerJS's `reliable`.
        case offering(label: String, ordered: Bool)
    }

    public let peer: String
    public let connectionId: String
    public let role: Role

    /// What a data session reports, in order, on the loop thread.
    public enum Event: Sendable {
        /// Offering: the local offer SDP, once (send it as OFFER).
        case offer(String)
        /// Answering: the local answer SDP, once (send it as ANSWER).
        case answer(String)
        /// A local ICE candidate (send it as CANDIDATE).
        case localCandidate(mline: Int, candidate: String)
        /// The data channel is open: `send` works from now on.
        case open
        /// A message the peer sent, in order, never before `.open`.
        case message(Message)
        /// Once, last, when the connection is over (channel closed, ICE failed, `close()`); the pipeline is
        /// stopped.
        case closed(detail: String?)
    }

    /// Everything the session reports; none after `.closed`.
    public var onEvent: (@GLibActor (Event) -> Void)?

    /// The context every C callback gets (internal for the teardown tests: it must go when the session goes).
    let link: DataSessionContext
    private var elements = Elements()
    private var negotiation = Negotiation()
    /// Set by `close()`: the pipeline stops when it fires.
    private var closeTimer: GLibTimer?
    /// Messages that came before the channel was open, delivered after `.open` (at most `maxEarlyMessages`).
    private var earlyMessages: [Message] = []
    static let maxEarlyMessages = 64
    public private(set) var isOpen = false
    public private(set) var isClosed = false

    /// The GStreamer objects of the connection; nil before `start()` and after the end.
    private struct Elements {
        var pipeline: UnsafeMutablePointer<GstElement>?
        var webrtc: UnsafeMutablePointer<GstElement>?
        /// The one data channel, with a reference of our own.
        var channel: UnsafeMutablePointer<GObject>?
        var busWatch: guint = 0
    }

    /// Offer and answer.
    private struct Negotiation {
        /// Remote candidates held until the remote description is set.
        var earlyCandidates = CandidateBuffer<(mline: Int, candidate: String)>()
        var remoteDescriptionApplied = false
        /// Offering: the peer's answer was taken; a second one is ignored.
        var answerGiven = false
    }

    private var webrtc: UnsafeMutablePointer<GstElement>? { elements.webrtc }
    private var channel: UnsafeMutablePointer<GObject>? { elements.channel }

    /// Answering: checks that the offer is a data connection's (one `m=application` section); builds nothing yet.
    public init(peer: String, connectionId: String, offerSDP: String) throws(MediaError) {
        let offer = try SDPOffer(parsing: offerSDP)
        guard offer.sections.count == 1, offer.hasDataChannel else {
            throw MediaError(.badOffer, "a data connection's offer must have exactly one m=application section")
        }
        self.peer = peer
        self.connectionId = connectionId
        self.role = .answering(offerSDP: offerSDP)
        self.link = DataSessionContext()
        link.session = self
    }

    /// Offering: a channel labelled `label`, ordered or not; `start()` creates it and makes the offer.
    public init(peer: String, connectionId: String, label: String, ordered: Bool) {
        self.peer = peer
        self.connectionId = connectionId
        self.role = .offering(label: label, ordered: ordered)
        self.link = DataSessionContext()
        link.session = self
    }

    isolated deinit { stopPipeline() }

    /// Builds the pipeline (webrtcbin alone), starts it and begins answering.
    public func start() throws(MediaError) {
        // gst_parse_launch("webrtcbin") would return the bare element, not a pipeline (notes §2–§5).
        guard let pipeline = gst_pipeline_new(nil) else { throw MediaError(.pipelineFailed, "no pipeline") }
        elements.pipeline = pipeline
        guard let webrtc = gst_element_factory_make("webrtcbin", "webrtc") else {
            throw MediaError(.missingElement, "webrtcbin is not installed")
        }
        gst_util_set_object_arg(cast(webrtc, to: GObject.self), "bundle-policy", "max-bundle")
        WebRTCICE.apply(to: webrtc)
        gst_bin_add(cast(pipeline, to: GstBin.self), webrtc)
        gst_object_ref(UnsafeMutableRawPointer(webrtc))
        elements.webrtc = webrtc

        let raw = UnsafeMutableRawPointer(webrtc)
        connectSignal(raw, "on-ice-candidate", link, unsafeBitCast(onDataIceCandidate, to: GCallback.self))
        connectSignal(raw, "on-data-channel", link, unsafeBitCast(onDataChannelAnnounced, to: GCallback.self))
        connectSignal(raw, "notify::ice-connection-state", link, unsafeBitCast(onDataIceState, to: GCallback.self))
        let bus = gst_element_get_bus(pipeline)
        elements.busWatch = gst_bus_add_watch_full(bus, G_PRIORITY_DEFAULT, onDataBusMessage,
                                          Unmanaged.passRetained(link).toOpaque(), releaseDataSessionContext)
        gst_object_unref(UnsafeMutableRawPointer(bus))
        guard gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            throw MediaError(.pipelineFailed, "the data pipeline would not start")
        }

        switch role {
        case .answering(let offerSDP):
            try setRemoteDescription(offerSDP, type: GST_WEBRTC_SDP_TYPE_OFFER)
            Log.info("media", "taking a data connection from \(peer) (\(connectionId))")
        case .offering(let label, let ordered):
            try createChannel(label: label, ordered: ordered)
            Log.info("media", "opening a data connection to \(peer) (\(connectionId), label \(label))")
        }
    }

    /// Offering: the peer's answer SDP. Answering sessions ignore it; a second answer is ignored.
    public func setRemoteAnswer(_ sdp: String) throws(MediaError) {
        guard case .offering = role, !negotiation.answerGiven, !isClosed, webrtc != nil else { return }
        negotiation.answerGiven = true
        try setRemoteDescription(sdp, type: GST_WEBRTC_SDP_TYPE_ANSWER)
    }

    /// A remote ICE candidate; empty end-of-candidates strings are ignored.
    public func addRemoteCandidate(mline: Int, candidate: String) {
        guard !isClosed, !candidate.isEmpty else { return }
        guard negotiation.remoteDescriptionApplied, let webrtc else {
            negotiation.earlyCandidates.hold((mline, candidate))
            return
        }
        ic_webrtc_add_ice_candidate(webrtc, guint(mline), candidate)
    }

    /// Sends a text message; false when the channel is not open.
    @discardableResult
    public func send(text: String) -> Bool {
        guard isOpen, !isClosed, let channel else { return false }
        ic_data_channel_send_string(channel, text)
        return true
    }

    /// Sends a binary message; false when the channel is not open.
    @discardableResult
    public func send(bytes: [UInt8]) -> Bool {
        guard isOpen, !isClosed, let channel else { return false }
        let data = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        ic_data_channel_send_data(channel, data)
        g_bytes_unref(data)
        return true
    }

    /// Closes the channel, then, half a second later, the pipeline. webrtcbin reports our own close (on-close)
    /// before SCTP's stream reset has left; stopping then cut it off now and then, and the peer only learnt of
    /// the close when ICE gave up, half a minute later.
    public func close() {
        guard !isClosed, closeTimer == nil else { return }
        if let channel { ic_data_channel_close(channel) }
        // The timer holds the session until it fires, so a closing session outlives its owner's reference.
        closeTimer = GLibTimer(milliseconds: channel == nil ? 0 : 500) { self.finish(nil) }
    }

    // MARK: - Negotiation

    private func setRemoteDescription(_ text: String, type: GstWebRTCSDPType) throws(MediaError) {
        let description = try sessionDescription(text, type: type, what: "the data connection's SDP")
        let promise = makePromise(link) { link, reply in
            let failure = promiseError(reply)
            GLibLoop.shared.post { link.session?.remoteDescriptionSet(error: failure) }
        }
        ic_webrtc_set_remote_description(webrtc, description, promise)
        gst_promise_unref(promise)
        gst_webrtc_session_description_free(description)
    }

    private func remoteDescriptionSet(error: String?) {
        guard !isClosed, let webrtc else { return }
        if let error { return finish("set-remote-description failed: \(error)") }
        negotiation.remoteDescriptionApplied = true
        for early in negotiation.earlyCandidates.drain() { ic_webrtc_add_ice_candidate(webrtc, guint(early.mline), early.candidate) }
        guard case .answering = role else { return }
        createDescription(webrtc, offer: false, link) { link, answer, error in
            link.session?.answerCreated(answer, error: error)
        }
    }

    /// Offering: the channel first (so the offer has its `m=application` section), then the offer.
    private func createChannel(label: String, ordered: Bool) throws(MediaError) {
        guard let webrtc else { return }
        let options = gst_structure_from_string("options, ordered=(boolean)\(ordered ? "true" : "false")", nil)
        defer { if let options { gst_structure_free(options) } }
        // create-data-channel returns a reference of our own; stopPipeline drops it.
        guard let created = ic_webrtc_create_data_channel(webrtc, label, options) else {
            throw MediaError(.pipelineFailed, "webrtcbin would not create a data channel")
        }
        watchChannel(created)
        createDescription(webrtc, offer: true, link) { link, offer, error in
            link.session?.offerCreated(offer, error: error)
        }
    }

    private func offerCreated(_ offer: UnsafeMutablePointer<GstWebRTCSessionDescription>?, error: String?) {
        guard let offer else { return finish("create-offer failed: \(error ?? "no offer in the reply")") }
        defer { gst_webrtc_session_description_free(offer) }
        guard !isClosed, let webrtc else { return }
        ic_webrtc_set_local_description(webrtc, offer, nil)
        guard let text = takeGString(gst_sdp_message_as_text(offer.pointee.sdp)) else {
            return finish("the offer has no SDP text")
        }
        onEvent?(.offer(text))
    }

    private func answerCreated(_ answer: UnsafeMutablePointer<GstWebRTCSessionDescription>?, error: String?) {
        guard let answer else { return finish("create-answer failed: \(error ?? "no answer in the reply")") }
        defer { gst_webrtc_session_description_free(answer) }
        guard !isClosed, let webrtc else { return }
        ic_webrtc_set_local_description(webrtc, answer, nil)
        guard let text = takeGString(gst_sdp_message_as_text(answer.pointee.sdp)) else {
            return finish("the answer has no SDP text")
        }
        onEvent?(.answer(text))
    }

    // MARK: - Events from GStreamer (already on the GLib thread)

    fileprivate func localCandidate(mline: Int, candidate: String) {
        guard !isClosed else { return }
        onEvent?(.localCandidate(mline: mline, candidate: candidate))
    }

    /// A channel the peer announced; its signals were connected on the streaming thread already.
    fileprivate func channelArrived(_ channel: UnsafeMutablePointer<GObject>) {
        guard !isClosed, elements.channel == nil else { g_object_unref(channel); return }
        watchChannel(channel, listening: true)
    }

    /// Takes over `channel` (a reference of our own) and listens to it.
    private func watchChannel(_ channel: UnsafeMutablePointer<GObject>, listening: Bool = false) {
        elements.channel = channel
        let raw = UnsafeMutableRawPointer(channel)
        if !listening { listenToDataChannel(raw, link) }
        // A channel announced by the peer is usually open already: its on-open has been and gone.
        if ic_object_get_enum(raw, "ready-state") == gint(GST_WEBRTC_DATA_CHANNEL_STATE_OPEN.rawValue) { channelOpened() }
    }

    /// webrtcbin's `on-open` (or the ready state of a channel the peer announced). Internal for the tests.
    func channelOpened() {
        guard !isClosed, !isOpen else { return }
        isOpen = true
        Log.info("media", "data channel with \(peer) (\(connectionId)) open")
        onEvent?(.open)
        let early = earlyMessages
        earlyMessages.removeAll()
        for message in early where !isClosed { onEvent?(.message(message)) }
    }

    /// A message from the channel. webrtcbin queues `on-open` from the thread that sent the channel's DCEP
    /// OPEN only after sending it, so on a loaded machine the peer's first message (its reply to that OPEN)
    /// can reach us first; until `send` works it waits. Internal for the tests.
    func received(_ message: Message) {
        guard !isClosed else { return }
        guard isOpen else {
            if earlyMessages.isEmpty {
                Log.info("media", "data channel with \(peer) (\(connectionId)): a message came before the channel "
                         + "said open; held until it does")
            }
            if earlyMessages.count < Self.maxEarlyMessages { earlyMessages.append(message) }
            return
        }
        onEvent?(.message(message))
    }

    fileprivate func channelClosed() {
        guard closeTimer == nil else { return } // our own close: the timer finishes
        finish("the peer closed the channel")
    }

    /// Each change is logged: a data connection that never opens then says in the log how far ICE got.
    fileprivate func iceStateChanged(_ state: GstWebRTCICEConnectionState) {
        guard !isClosed else { return }
        Log.info("media", "data connection with \(peer) (\(connectionId)): ICE \(Self.name(of: state))")
        switch state {
        case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED: finish("ICE failed")
        case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED: finish(closeTimer == nil ? "ICE closed" : nil)
        default: break
        }
    }

    private static func name(of state: GstWebRTCICEConnectionState) -> String {
        switch state {
        case GST_WEBRTC_ICE_CONNECTION_STATE_NEW: "new"
        case GST_WEBRTC_ICE_CONNECTION_STATE_CHECKING: "checking"
        case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED: "connected"
        case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED: "completed"
        case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED: "failed"
        case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED: "disconnected"
        case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED: "closed"
        default: "state \(state.rawValue)"
        }
    }

    fileprivate func busError(source: String, _ text: String) {
        finish(closeTimer == nil ? "\(source): \(text)" : nil)
    }

    // MARK: - Teardown

    private func finish(_ detail: String?) {
        guard !isClosed else { return }
        isClosed = true
        isOpen = false
        closeTimer = nil
        Log.info("media", "data connection with \(peer) (\(connectionId)) closed" + (detail.map { ": \($0)" } ?? ""))
        stopPipeline()
        let report = onEvent
        dropCallbacks()
        report?(.closed(detail: detail))
    }

    /// A closed session calls nobody again and lets go of its owner's closures (see `CallSession.dropCallbacks`).
    private func dropCallbacks() {
        onEvent = nil
        earlyMessages.removeAll()
    }

    /// The running pipeline (nil before `start()` and after the end); the teardown tests watch its elements.
    var runningPipeline: UnsafeMutablePointer<GstElement>? { elements.pipeline }

    private func stopPipeline() {
        if elements.busWatch != 0 { g_source_remove(elements.busWatch); elements.busWatch = 0 }
        if let channel { g_object_unref(channel); elements.channel = nil }
        PipelineReaper.shared.release(elements.pipeline, webrtc: elements.webrtc)
        elements.pipeline = nil
        elements.webrtc = nil
    }
}

/// The context every C callback of a data session gets; `session` is read and written only on the GLib thread.
final class DataSessionContext: @unchecked Sendable {
    weak var session: DataSession?
    init() { LiveSessions.opened() }
    deinit { LiveSessions.closed() }
}

// MARK: - C callbacks (free functions; they copy what they need and hop to the GLib thread in order)

/// Carries the channel across the hop (its reference was taken before).
private struct ChannelBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<GObject>
}

private let onDataIceCandidate: @convention(c) (UnsafeMutablePointer<GstElement>?, guint, UnsafeMutablePointer<gchar>?,
                                                gpointer?) -> Void = { _, mline, candidate, data in
    guard let candidate, let data else { return }
    let link = Unmanaged<DataSessionContext>.fromOpaque(data).takeUnretainedValue()
    let text = String(cString: candidate)
    GLibLoop.shared.post { link.session?.localCandidate(mline: Int(mline), candidate: text) }
}

private let onDataChannelAnnounced: @convention(c) (UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GObject>?,
                                                    gpointer?) -> Void = { _, channel, data in
    guard let channel, let data else { return }
    let link = Unmanaged<DataSessionContext>.fromOpaque(data).takeUnretainedValue()
    // Listen now, on this thread: the peer may send its first message the moment the channel opens, and
    // webrtcbin drops messages that arrive before anyone listens (waiting for the loop lost a page's first one).
    listenToDataChannel(UnsafeMutableRawPointer(channel), link)
    g_object_ref(channel)
    let box = ChannelBox(pointer: channel)
    GLibLoop.shared.post {
        if let session = link.session { session.channelArrived(box.pointer) } else { g_object_unref(box.pointer) }
    }
}

/// Connects a data channel's signals to `link` (any thread: the handlers hop to the loop in order).
private func listenToDataChannel(_ raw: UnsafeMutableRawPointer, _ link: DataSessionContext) {
    connectSignal(raw, "on-open", link, unsafeBitCast(onDataChannelOpened, to: GCallback.self))
    connectSignal(raw, "on-close", link, unsafeBitCast(onDataChannelClosed, to: GCallback.self))
    connectSignal(raw, "on-message-string", link, unsafeBitCast(onDataMessageString, to: GCallback.self))
    connectSignal(raw, "on-message-data", link, unsafeBitCast(onDataMessageData, to: GCallback.self))
}

private let onDataChannelOpened: @convention(c) (UnsafeMutablePointer<GObject>?, gpointer?) -> Void = { _, data in
    guard let data else { return }
    let link = Unmanaged<DataSessionContext>.fromOpaque(data).takeUnretainedValue()
    GLibLoop.shared.post { link.session?.channelOpened() }
}

private let onDataChannelClosed: @convention(c) (UnsafeMutablePointer<GObject>?, gpointer?) -> Void = { _, data in
    guard let data else { return }
    let link = Unmanaged<DataSessionContext>.fromOpaque(data).takeUnretainedValue()
    GLibLoop.shared.post { link.session?.channelClosed() }
}

private let onDataMessageString: @convention(c) (UnsafeMutablePointer<GObject>?, UnsafeMutablePointer<gchar>?,
                                                 gpointer?) -> Void = { _, text, data in
    guard let data else { return }
    let link = Unmanaged<DataSessionContext>.fromOpaque(data).takeUnretainedValue()
    let message = DataSession.Message.text(text.map { String(cString: $0) } ?? "")
    GLibLoop.shared.post { link.session?.received(message) }
}

private let onDataMessageData: @convention(c) (UnsafeMutablePointer<GObject>?, OpaquePointer?, gpointer?) -> Void = {
    _, bytes, data in
    guard let data else { return }
    let link = Unmanaged<DataSessionContext>.fromOpaque(data).takeUnretainedValue()
    var copy: [UInt8] = []
    if let bytes {
        var size: gsize = 0
        if let start = g_bytes_get_data(bytes, &size), size > 0 {
            copy = Array(UnsafeRawBufferPointer(start: start, count: Int(size)))
        }
    }
    let message = DataSession.Message.bytes(copy)
    GLibLoop.shared.post { link.session?.received(message) }
}

private let onDataIceState: @convention(c) (UnsafeMutablePointer<GstElement>?, gpointer?, gpointer?) -> Void = {
    webrtc, _, data in
    guard let webrtc, let data else { return }
    let link = Unmanaged<DataSessionContext>.fromOpaque(data).takeUnretainedValue()
    let state = GstWebRTCICEConnectionState(rawValue: UInt32(ic_object_get_enum(webrtc, "ice-connection-state")))
    GLibLoop.shared.post { link.session?.iceStateChanged(state) }
}

private let onDataBusMessage: GstBusFunc = { _, message, data in
    guard let message, let data, message.pointee.type == GST_MESSAGE_ERROR else { return 1 }
    let link = Unmanaged<DataSessionContext>.fromOpaque(data).takeUnretainedValue()
    let (source, text) = busProblem(message)
    GLibActor.assumeIsolated { link.session?.busError(source: source, text) }
    return 1
}

private let releaseDataSessionContext: GDestroyNotify = { data in
    if let data { Unmanaged<DataSessionContext>.fromOpaque(data).release() }
}
