import CGStreamer
import DoorCore
import MainLoop
import Synchronization

/// Decodes one picture file (JPEG or PNG, as `ImageHeader` read it) into a `VideoPicture` of a given size for
/// the device screen, fitted with black borders where the shapes differ (videoscale's `add-borders`):
/// `appsrc ! jpegdec|pngdec ! videoconvert ! videoscale ! BGRx ! appsink`, on GStreamer's
/// own threads; the loop only starts it and hears the result. Check the header's size before calling: the
/// decoder allocates the whole picture.
@GLibActor
public final class ImageDecoder {
    /// How long a decode may take before it counts as failed.
    static let timeoutMillis: UInt32 = 5000
    private var pipeline: UnsafeMutablePointer<GstElement>?
    private var busWatch: guint = 0
    private var timer: GLibTimer?
    private let job: DecodeJob

    /// Starts decoding `bytes`; `done` runs on the loop once, with the picture or nil (not decodable, too
    /// slow). Keep the decoder until then: letting go of it stops the decode.
    public init(_ bytes: [UInt8], header: ImageHeader, width: Int, height: Int,
                done: @escaping @Sendable @GLibActor (VideoPicture?) -> Void) {
        job = DecodeJob(done: done)
        let decoder = header.kind == .png ? "pngdec" : "jpegdec"
        let description = "appsrc name=src caps=\(header.kind.rawValue) format=bytes ! \(decoder) ! videoconvert"
            + " ! videoscale add-borders=true ! video/x-raw,format=BGRx,width=\(width),height=\(height),pixel-aspect-ratio=1/1"
            + " ! appsink name=out sync=false max-buffers=1"
        var error: UnsafeMutablePointer<GError>?
        guard let element = gst_parse_launch(description, &error), error == nil else {
            Log.warning("media", "picture decoder: \(takeError(error))")
            job.finish(nil)
            return
        }
        pipeline = element
        let bin = cast(element, to: GstBin.self)
        guard let source = gst_bin_get_by_name(bin, "src"), let sink = gst_bin_get_by_name(bin, "out") else {
            job.finish(nil)
            return
        }
        defer {
            gst_object_unref(UnsafeMutableRawPointer(source))
            gst_object_unref(UnsafeMutableRawPointer(sink))
        }
        var callbacks = GstAppSinkCallbacks()
        callbacks.new_sample = onDecodedSample
        gst_app_sink_set_callbacks(UnsafeMutablePointer<GstAppSink>(OpaquePointer(sink)), &callbacks,
                                   Unmanaged.passRetained(job).toOpaque(), releaseDecodeJob)
        if let bus = gst_element_get_bus(element) {
            busWatch = gst_bus_add_watch_full(bus, G_PRIORITY_DEFAULT, onDecoderBusMessage,
                                              Unmanaged.passRetained(job).toOpaque(), releaseDecodeJob)
            gst_object_unref(UnsafeMutableRawPointer(bus))
        }
        let buffer = bytes.withUnsafeBytes { gst_buffer_new_memdup($0.baseAddress, gsize($0.count)) }
        let appsrc = UnsafeMutablePointer<GstAppSrc>(OpaquePointer(source))
        gst_app_src_push_buffer(appsrc, buffer)
        gst_app_src_end_of_stream(appsrc)
        timer = GLibTimer(milliseconds: Self.timeoutMillis) { [job] in
            Log.warning("media", "a picture took over \(Self.timeoutMillis) ms to decode; dropped")
            job.finish(nil)
        }
        job.onFinished = { [weak self] in self?.stop() }
        if gst_element_set_state(element, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE { job.finish(nil) }
    }

    isolated deinit { stop() }

    private func stop() {
        timer = nil
        if busWatch != 0 { g_source_remove(busWatch) }
        busWatch = 0
        guard let pipeline else { return }
        self.pipeline = nil
        PipelineReaper.shared.release(pipeline, webrtc: nil)
    }
}

/// What the streaming thread and the bus share with the loop: `done`, called once.
final class DecodeJob: Sendable {
    let done: @Sendable @GLibActor (VideoPicture?) -> Void
    let finished = Atomic<Bool>(false)
    /// Set on the loop before the pipeline plays; read only on the loop.
    nonisolated(unsafe) var onFinished: (@GLibActor () -> Void)?

    init(done: @escaping @Sendable @GLibActor (VideoPicture?) -> Void) { self.done = done }

    /// Any thread: hands `picture` to the loop unless the job already finished.
    func finish(_ picture: VideoPicture?) {
        guard !finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        GLibLoop.shared.post { [self] in
            done(picture)
            onFinished?()
            onFinished = nil
        }
    }
}

private let releaseDecodeJob: GDestroyNotify = { data in
    if let data { Unmanaged<DecodeJob>.fromOpaque(data).release() }
}

private let onDecodedSample: @convention(c) (UnsafeMutablePointer<GstAppSink>?, gpointer?) -> GstFlowReturn = {
    appsink, data in
    guard let appsink, let data, let sample = gst_app_sink_pull_sample(appsink) else { return GST_FLOW_OK }
    defer { gst_sample_unref(sample) }
    let job = Unmanaged<DecodeJob>.fromOpaque(data).takeUnretainedValue()
    var info = GstVideoInfo()
    guard let caps = gst_sample_get_caps(sample), gst_video_info_from_caps(&info, caps) != 0,
          let buffer = gst_sample_get_buffer(sample) else {
        job.finish(nil)
        return GST_FLOW_EOS
    }
    var map = GstMapInfo()
    guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else {
        job.finish(nil)
        return GST_FLOW_EOS
    }
    defer { gst_buffer_unmap(buffer, &map) }
    let width = Int(info.width), height = Int(info.height), stride = Int(info.stride.0)
    guard stride * height <= Int(map.size), let bytes = map.data else {
        job.finish(nil)
        return GST_FLOW_EOS
    }
    job.finish(VideoPicture(width: width, height: height, stride: stride,
                            pixels: Array(UnsafeBufferPointer(start: bytes, count: stride * height))))
    return GST_FLOW_EOS
}

/// Runs on the loop (the bus watch is on the default context): an error or an end with no picture is a failure.
private let onDecoderBusMessage: GstBusFunc = { _, message, data in
    guard let message, let data else { return 1 }
    let job = Unmanaged<DecodeJob>.fromOpaque(data).takeUnretainedValue()
    switch message.pointee.type {
    case GST_MESSAGE_ERROR:
        Log.info("media", "a picture did not decode: \(busProblem(message).text)")
        job.finish(nil)
    case GST_MESSAGE_EOS:
        job.finish(nil)  // after a picture this does nothing; without one, the file held none
    default:
        break
    }
    return 1
}
