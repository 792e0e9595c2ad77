import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop
import Synchronization

// MARK: - C callbacks (free functions: never actor-isolated closures, see docs/architecture.md#one-process-one-loop)

let onIceCandidate: @convention(c) (UnsafeMutablePointer<GstElement>?, guint, UnsafeMutablePointer<gchar>?,
                                            gpointer?) -> Void = { _, mline, candidate, data in
    guard let candidate, let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    let text = String(cString: candidate)
    GLibLoop.shared.post { link.session?.localCandidate(mline: Int(mline), candidate: text) }
}

let onDataChannel: @convention(c) (UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GObject>?,
                                           gpointer?) -> Void = { _, channel, data in
    guard let channel, let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    g_object_ref(channel)
    let box = PointerBox(channel)
    GLibLoop.shared.post {
        if let session = link.session { session.dataChannelArrived(box.pointer) } else { g_object_unref(box.pointer) }
    }
}

let onDataChannelClose: @convention(c) (UnsafeMutablePointer<GObject>?, gpointer?) -> Void = { _, data in
    guard let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    GLibLoop.shared.post { link.session?.dataChannelClosed() }
}

let onIceStateChanged: @convention(c) (UnsafeMutablePointer<GstElement>?, gpointer?, gpointer?) -> Void = {
    webrtc, _, data in
    guard let webrtc, let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    let state = GstWebRTCICEConnectionState(rawValue: UInt32(ic_object_get_enum(webrtc, "ice-connection-state")))
    GLibLoop.shared.post { link.session?.iceStateChanged(state) }
}

let onDTLSStateChanged: @convention(c) (UnsafeMutablePointer<GObject>?, gpointer?, gpointer?) -> Void = {
    transport, _, data in
    guard let transport, let data else { return }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    let state = GstWebRTCDTLSTransportState(rawValue: UInt32(ic_object_get_enum(transport, "state")))
    GLibLoop.shared.post { link.session?.dtlsStateChanged(state) }
}

/// A remote stream appeared on webrtcbin: decode it and count what comes out. Runs on a streaming thread.
let onWebRTCPadAdded: @convention(c) (UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GstPad>?,
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

let onDecodedPadAdded: @convention(c) (UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GstPad>?,
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
    } else if !isVideo, let speaker = addSpeakerBranch(to: bin, counters: link.counters) {
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
func addScreenBranch(to bin: UnsafeMutablePointer<GstBin>, link: SessionLink) -> UnsafeMutablePointer<GstPad>? {
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
func addSpeakerBranch(to bin: UnsafeMutablePointer<GstBin>, counters: MediaCounters) -> UnsafeMutablePointer<GstPad>? {
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
    meterVoice(at: mixerPad, into: counters)
    gst_object_unref(UnsafeMutableRawPointer(branchSource))
    gst_object_unref(UnsafeMutableRawPointer(mixerPad))
    gst_element_sync_state_with_parent(branch)
    return gst_element_get_static_pad(branch, "sink")
}

final class CounterChoice: Sendable {
    let counters: MediaCounters
    let video: Bool
    init(counters: MediaCounters, video: Bool) { self.counters = counters; self.video = video }
}

let countBuffer: GstPadProbeCallback = { _, _, data in
    guard let data else { return GST_PAD_PROBE_OK }
    let choice = Unmanaged<CounterChoice>.fromOpaque(data).takeUnretainedValue()
    if choice.video {
        choice.counters.videoFramesDecoded.add(1, ordering: .relaxed)
    } else {
        choice.counters.audioBuffersDecoded.add(1, ordering: .relaxed)
    }
    return GST_PAD_PROBE_OK
}

let onBusMessage: GstBusFunc = { _, message, data in
    guard let message, let data else { return 1 }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    switch message.pointee.type {
    case GST_MESSAGE_ERROR:
        let (source, text) = busProblem(message)
        // A visit clip's branch failing (a full card) is the clip's problem, not the call's (docs/visits.md).
        if ClipRecorder.tookError(message, source: source, text) { break }
        GLibActor.assumeIsolated { link.session?.busError(source: source, text) }
    case GST_MESSAGE_WARNING:
        Log.debug("media", "GStreamer warning: \(busProblem(message).text)")
    default:
        break
    }
    return 1 // keep watching
}

/// Not a closure literal inside `watchEncoder`: that one inherits the actor's isolation, and GStreamer calls it on
/// a streaming thread when the probe goes away (Swift's runtime check aborted the process at a call's end).
let releaseCounters: GDestroyNotify = { data in
    if let data { Unmanaged<MediaCounters>.fromOpaque(data).release() }
}

let releaseLink: GDestroyNotify = { data in
    if let data { Unmanaged<SessionLink>.fromOpaque(data).release() }
}

/// Carries a GObject pointer across the hop to the GLib thread (the reference it holds was taken before).
private struct PointerBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<GObject>
    init(_ pointer: UnsafeMutablePointer<GObject>) { self.pointer = pointer }
}
