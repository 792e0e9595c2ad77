import CGStreamer
import CIntercomShim
import Dispatch
import DoorCore

/// Casts between GObject pointer types (what the `GST_BIN()`/`G_OBJECT()` macros do in C).
@inline(__always)
func cast<T, U>(_ pointer: UnsafeMutablePointer<T>, to: U.Type = U.self) -> UnsafeMutablePointer<U> {
    UnsafeMutablePointer<U>(OpaquePointer(pointer))
}

/// Connects a C signal handler with a retained context object that is released when the handler goes away.
@discardableResult
func connectSignal<Context: AnyObject>(_ instance: UnsafeMutableRawPointer, _ signal: String, _ context: Context,
                                       _ handler: GCallback) -> gulong {
    let data = Unmanaged.passRetained(context).toOpaque()
    return g_signal_connect_data(instance, signal, handler, data, { data, _ in
        if let data { Unmanaged<AnyObject>.fromOpaque(data).release() }
    }, GConnectFlags(rawValue: 0))
}

/// Copies a GError's message and frees it.
func takeError(_ error: UnsafeMutablePointer<GError>?) -> String {
    guard let error else { return "unknown error" }
    defer { g_error_free(error) }
    return error.pointee.message.map { String(cString: $0) } ?? "unknown error"
}

/// A remote SDP text as webrtcbin takes it (the caller frees it with `gst_webrtc_session_description_free`);
/// `what` names it in the error ("the remote SDP", "the data connection's SDP").
func sessionDescription(_ text: String, type: GstWebRTCSDPType,
                        what: String) throws(MediaError) -> UnsafeMutablePointer<GstWebRTCSessionDescription> {
    var message: UnsafeMutablePointer<GstSDPMessage>?
    guard gst_sdp_message_new_from_text(text, &message) == GST_SDP_OK, let message else {
        throw MediaError(.badOffer, "GStreamer could not parse \(what)")
    }
    guard let description = gst_webrtc_session_description_new(type, message) else {
        throw MediaError(.badOffer, "could not wrap \(what)")
    }
    return description
}

/// What an ERROR or WARNING bus message says: the element that posted it and its message (the debug text is
/// dropped).
func busProblem(_ message: UnsafeMutablePointer<GstMessage>) -> (source: String, text: String) {
    var error: UnsafeMutablePointer<GError>?
    var debug: UnsafeMutablePointer<gchar>?
    if message.pointee.type == GST_MESSAGE_WARNING {
        gst_message_parse_warning(message, &error, &debug)
    } else {
        gst_message_parse_error(message, &error, &debug)
    }
    g_free(debug)
    return (message.pointee.src.map { String(cString: $0.pointee.name) } ?? "?", takeError(error))
}

/// Whether an element factory is installed (also the run-time check for hardware encoders).
public func elementExists(_ name: String) -> Bool {
    guard let factory = gst_element_factory_find(name) else { return false }
    gst_object_unref(UnsafeMutableRawPointer(factory))
    return true
}

/// Stops a session's pipeline and drops it and the session's own reference to its webrtcbin (either may be nil),
/// silencing the ICE transports and letting webrtcbin finish its queued operations first.
func releaseWebRTCPipeline(_ pipeline: UnsafeMutablePointer<GstElement>?, webrtc: UnsafeMutablePointer<GstElement>?) {
    if let webrtc {
        if pipeline != nil {
            settleOperations(webrtc)
            silenceICETransports(webrtc)
        }
        gst_object_unref(UnsafeMutableRawPointer(webrtc))
    }
    if let pipeline {
        gst_element_set_state(pipeline, GST_STATE_NULL)
        gst_object_unref(UnsafeMutableRawPointer(pipeline))
    }
}

/// Blocks every `notify` handler on webrtcbin's ICE transports; `releaseWebRTCPipeline` calls it right before
/// the pipeline stops.
///
/// GStreamer 1.22's transportreceivebin re-arms the block on its input from a `notify::state` handler on the ICE
/// transport. A notification that lands in the middle of the bin's READY→NULL — ICE still gathering when a
/// connection ends within milliseconds of its answer — makes a pad block that is never freed and holds the
/// receive bin, nicesrc and the DTLS decoder for good (GST_DEBUG=webrtctransportreceivebin:6 shows the call in
/// the middle of the state change). A stopping pipeline needs none of those notifications.
private func silenceICETransports(_ webrtc: UnsafeMutablePointer<GstElement>) {
    var dtlsTransports: [gpointer] = []
    var index: Int32 = 0
    while let transceiver = ic_webrtc_get_transceiver(webrtc, index) {
        if let sender = ic_object_get_object(transceiver, "sender") {
            if let transport = ic_object_get_object(sender, "transport") { dtlsTransports.append(transport) }
            g_object_unref(sender)
        }
        g_object_unref(transceiver)
        index += 1
    }
    if let sctp = ic_object_get_object(webrtc, "sctp-transport") {
        if let transport = ic_object_get_object(sctp, "transport") { dtlsTransports.append(transport) }
        g_object_unref(sctp)
    }
    let notify = g_signal_lookup("notify", g_object_get_type())
    var silenced: Set<UnsafeMutableRawPointer> = []
    for dtls in dtlsTransports {
        if let ice = ic_object_get_object(dtls, "transport") {
            if silenced.insert(ice).inserted {
                g_signal_handlers_block_matched(ice, G_SIGNAL_MATCH_ID, notify, 0, nil, nil, nil)
            }
            g_object_unref(ice)
        }
        g_object_unref(dtls)
    }
}

/// Waits (at most `limitMillis`) until webrtcbin has run every operation queued on its own thread;
/// `releaseWebRTCPipeline` calls it right before the pipeline stops.
///
/// A session hands out its answer as soon as `set-local-description` is queued, so a session dropped right after
/// its answer (a page that offers and leaves at once, a device shutting down) stops while webrtcbin may still be
/// applying that description. Applying it sets each transportreceivebin's receive state, which arms a pad block
/// when ICE is not connected yet; one armed after the bin's READY→NULL freed its block is never freed and holds
/// the receive bin, nicesrc and the DTLS decoder for good (seen as a SessionTeardownTests failure under CI load).
/// webrtcbin runs its operations in order on one thread, so the reply to a `get-stats` queued now means all
/// earlier ones are done.
private func settleOperations(_ webrtc: UnsafeMutablePointer<GstElement>, limitMillis: Int = 500) {
    // Its thread runs from READY up; below that nothing is queued (and nothing would answer).
    guard webrtc.pointee.current_state.rawValue >= GST_STATE_READY.rawValue else { return }
    let done = DispatchSemaphore(value: 0)
    let promise = makePromise(done) { done, _ in done.signal() }
    ic_webrtc_get_stats(webrtc, promise)
    gst_promise_unref(promise)
    if done.wait(timeout: .now() + .milliseconds(limitMillis)) == .timedOut {
        Log.warning("media", "webrtcbin did not finish its queued operations within \(limitMillis) ms; stopping anyway")
    }
}
