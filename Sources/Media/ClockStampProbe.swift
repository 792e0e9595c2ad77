import CGStreamer
import DoorCore
import MainLoop

// Pad probes that draw and read `ClockStamp`s (only with `MediaSettings.clockStamp`, for the benchmarks).
// They run on streaming threads and touch only the buffer in hand; readings hop to the GLib thread in order.

/// Draws the wall-clock time into every picture leaving the element named `clockstamp` in `bin`.
func addClockStampDrawing(_ bin: UnsafeMutablePointer<GstBin>) {
    guard let element = gst_bin_get_by_name(bin, "clockstamp") else {
        return Log.warning("media", "clock stamp asked for, but the pipeline has no clockstamp element")
    }
    defer { gst_object_unref(UnsafeMutableRawPointer(element)) }
    guard let pad = gst_element_get_static_pad(element, "src") else { return }
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, drawClockStamp, nil, nil)
    gst_object_unref(UnsafeMutableRawPointer(pad))
}

/// Reads the stamp in every decoded picture that leaves `pad` and reports its age to the session.
func addClockStampReading(_ pad: UnsafeMutablePointer<GstPad>, link: SessionLink) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, readClockStamp, Unmanaged.passRetained(link).toOpaque(),
                      { data in if let data { Unmanaged<SessionLink>.fromOpaque(data).release() } })
}

/// Maps the buffer's luma plane (planar and semi-planar YUV only) for `body`.
private func withLuma(_ pad: UnsafeMutablePointer<GstPad>, _ buffer: UnsafeMutablePointer<GstBuffer>, write: Bool,
                      _ body: (UnsafeMutableRawPointer, _ width: Int, _ height: Int, _ stride: Int) -> Void) {
    guard let caps = gst_pad_get_current_caps(pad) else { return }
    var info = GstVideoInfo()
    let parsed = gst_video_info_from_caps(&info, caps) != 0
    gst_caps_unref(caps)
    guard parsed, let format = info.finfo,
          format.pointee.flags.rawValue & GST_VIDEO_FORMAT_FLAG_YUV.rawValue != 0, format.pointee.n_planes >= 2
    else { return }
    var frame = GstVideoFrame()
    guard gst_video_frame_map(&frame, &info, buffer, write ? GST_MAP_WRITE : GST_MAP_READ) != 0 else { return }
    defer { gst_video_frame_unmap(&frame) }
    guard let luma = frame.data.0 else { return }
    body(luma, Int(info.width), Int(info.height), Int(frame.info.stride.0))
}

private let drawClockStamp: GstPadProbeCallback = { pad, info, _ in
    guard let pad, let info, let data = info.pointee.data else { return GST_PAD_PROBE_OK }
    // The source's buffer may be shared; draw on a copy if so, and pass that copy on.
    guard let writable = gst_mini_object_make_writable(data.assumingMemoryBound(to: GstMiniObject.self)) else {
        return GST_PAD_PROBE_OK
    }
    info.pointee.data = UnsafeMutableRawPointer(writable)
    let now = wallClockMillis()
    withLuma(pad, UnsafeMutableRawPointer(writable).assumingMemoryBound(to: GstBuffer.self), write: true) {
        luma, width, height, stride in
        ClockStamp.draw(now, luma: luma, width: width, height: height, stride: stride)
    }
    return GST_PAD_PROBE_OK
}

private let readClockStamp: GstPadProbeCallback = { pad, info, data in
    guard let pad, let info, let data, let buffer = info.pointee.data else { return GST_PAD_PROBE_OK }
    let link = Unmanaged<SessionLink>.fromOpaque(data).takeUnretainedValue()
    var stamp: Int64?
    withLuma(pad, buffer.assumingMemoryBound(to: GstBuffer.self), write: false) { luma, width, height, stride in
        stamp = ClockStamp.read(luma: luma, width: width, height: height, stride: stride)
    }
    guard let stamp else { return GST_PAD_PROBE_OK }
    let now = wallClockMillis()
    let latency = now - ClockStamp.unwrap(stamp, now: now)
    // Anything outside a minute is a picture without a stamp that happened to read as one.
    guard (-1000...60_000).contains(latency) else { return GST_PAD_PROBE_OK }
    GLibLoop.shared.post { link.session?.clockStampRead(latencyMillis: latency) }
    return GST_PAD_PROBE_OK
}
