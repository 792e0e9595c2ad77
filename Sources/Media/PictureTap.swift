import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop
import Synchronization

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
let onPictureSample: @convention(c) (UnsafeMutablePointer<GstAppSink>?, gpointer?) -> GstFlowReturn = {
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
