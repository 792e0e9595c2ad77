import CGStreamer
import DoorCore
import MainLoop
import Synchronization

/// One picture from the door's camera, as a JPEG.
public struct Still: Sendable, Equatable {
    public var jpeg: [UInt8]
    public var width: Int
    public var height: Int
}

extension MediaEngine {
    /// Takes one still from the camera of the pipeline that started at the press (`warmUp()`): a buffer probe
    /// on the camera valve's sink pad sees the camera's pictures although the valve drops them, keeps the
    /// `StillGrab.framesToSkip + 1`th (a real camera's first frames are still finding their exposure) and
    /// encodes it with `gst_video_convert_sample` (jpegenc). The camera is not opened a second time and the
    /// warm pipeline is not changed, so the press → screen path and the call's answer do not move.
    ///
    /// Without a warm pipeline (`media.warm_join: false`, or it did not start) a pipeline of the camera alone is
    /// started for this one picture and stopped as soon as it is taken (`StillCamera`).
    ///
    /// `done` runs on the loop once: with the still, or nil when there is no camera, the encoding fails, or the
    /// pipeline stops first.
    public func grabStill(_ done: @escaping @Sendable @GLibActor (Still?) -> Void) {
        // The camera is still starting off the loop: take the still once it runs; none if the room closed first.
        if waitForWarmStart({ roomOpen in roomOpen ? self.grabStill(done) : done(nil) }) { return }
        guard let pipeline = warm?.running else { return grabStillWithOwnCamera(done) }
        guard let valve = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "camvalve") else {
            Log.debug("media", "no still: the warm pipeline has no camera")
            return done(nil)
        }
        defer { gst_object_unref(UnsafeMutableRawPointer(valve)) }
        guard let pad = gst_element_get_static_pad(valve, "sink") else { return done(nil) }
        defer { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        let grab = StillGrab(done: done, started: monotonicMicros())
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, takeStill, Unmanaged.passRetained(grab).toOpaque(),
                          releaseStillGrab)
    }
}

extension MediaEngine {
    /// The still from a camera pipeline of its own: `<camera> ! videoconvert ! videoscale ! <the call's size> !
    /// fakesink`, the same probe on the sink's pad. Started only for a ring that has someone to send the picture
    /// to (the device asks only then), and stopped the moment the picture is taken.
    func grabStillWithOwnCamera(_ done: @escaping @Sendable @GLibActor (Still?) -> Void) {
        var send = SendPipeline(plan: plan)
        send.testPattern = settings.testPattern
        guard let source = send.videoSource else {
            Log.debug("media", "no still: no camera")
            return done(nil)
        }
        StillCamera.running?.stop()
        let description = source + " ! videoconvert ! videoscale"
            + " ! video/x-raw,width=\(plan.width),height=\(plan.height),pixel-aspect-ratio=1/1"
            + " ! fakesink name=stillsink sync=false async=false"
        StillCamera.running = StillCamera(description: description, done: done)
    }

    /// A call is about to build its own pipeline: a still's camera lets go of the device first (the reaper
    /// stops it, and a call's pipeline starts once the reaper is done).
    func stopStillCamera() {
        StillCamera.running?.stop()
    }
}

/// A camera pipeline that lives for one still (no warm pipeline to take it from): started by
/// `grabStillWithOwnCamera` on `PipelineReaper`'s thread (opening a camera takes hundreds of milliseconds under
/// load, which the loop must not wait for), stopped once the picture is taken, or after `maxMillis` whatever
/// happened.
@GLibActor
final class StillCamera {
    /// The one running (or starting) now, if any (a ring that follows quickly replaces it).
    static var running: StillCamera?
    /// A camera that gives no usable picture this long after it started is given up on.
    static let maxMillis: UInt32 = 4_000

    private enum State {
        case starting
        case running(UnsafeMutablePointer<GstElement>)
        case stopped
    }
    private var state = State.starting
    private var timer: GLibTimer?
    let started = monotonicMicros()

    /// Starts the pipeline off the loop; `done` hears the still or nil, once, whatever happens.
    init(description: String, done: @escaping @Sendable @GLibActor (Still?) -> Void) {
        let grab = StillGrab(done: { [weak self] still in
            self?.stop()
            done(still)
        }, started: started)
        PipelineReaper.shared.start({ Self.launch(description, grab: grab) }) { [weak self] element, millis in
            guard let element else { return }  // `grab` said nil already
            guard let self, case .starting = self.state else {
                // Stopped (the room closed, a call needs the camera, or the picture came) while it started.
                return PipelineReaper.shared.release(element, webrtc: nil)
            }
            self.state = .running(element)
            self.timer = GLibTimer(milliseconds: Self.maxMillis) { [weak self] in
                guard let self, self.isRunning else { return }
                Log.info("media", "no still within \(Self.maxMillis) ms of starting the camera; stopped it")
                self.stop()
            }
            Log.debug("media", "camera started for a still in \((millis * 10).rounded() / 10) ms off the loop")
        }
    }

    /// On the reaper's thread: the pipeline built and playing, with `grab`'s probe on its sink; nil (and `grab`
    /// told nil) when it does not start.
    private nonisolated static func launch(_ description: String, grab: StillGrab) -> UnsafeMutablePointer<GstElement>? {
        var error: UnsafeMutablePointer<GError>?
        let parsed = gst_parse_launch(description, &error)
        guard let element = parsed, error == nil else {
            if let parsed { gst_object_unref(UnsafeMutableRawPointer(parsed)) }
            Log.warning("media", "no still: \(takeError(error))")
            grab.finish(nil)
            return nil
        }
        guard let sink = gst_bin_get_by_name(cast(element, to: GstBin.self), "stillsink"),
              let pad = gst_element_get_static_pad(sink, "sink") else {
            gst_object_unref(UnsafeMutableRawPointer(element))
            grab.finish(nil)
            return nil
        }
        gst_object_unref(UnsafeMutableRawPointer(sink))
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, takeStill, Unmanaged.passRetained(grab).toOpaque(),
                          releaseStillGrab)
        gst_object_unref(UnsafeMutableRawPointer(pad))
        guard gst_element_set_state(element, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            Log.warning("media", "no still: the camera pipeline would not start")
            releaseWebRTCPipeline(element, webrtc: nil)  // the probe's pad goes with the pipeline: `grab` hears nil
            return nil
        }
        return element
    }

    /// Whether the camera is starting or running (the tests check it stops).
    var isRunning: Bool {
        if case .stopped = state { return false }
        return true
    }

    /// Stops the pipeline off the loop (`PipelineReaper`); the probe's release reports nil if nothing came. One
    /// still starting is stopped as soon as it is there.
    func stop() {
        timer = nil
        if StillCamera.running === self { StillCamera.running = nil }
        let was = state
        state = .stopped
        guard case .running(let element) = was else { return }
        Log.debug("media", "still camera stopped \((monotonicMicros() - started) / 1000) ms after it started")
        PipelineReaper.shared.release(element, webrtc: nil)
    }
}

/// What the probe shares with the loop: how many pictures it saw and whether `done` has been called.
final class StillGrab: Sendable {
    /// ~100 ms at 30 fps: long enough for auto-exposure's first correction, short against a notification.
    static let framesToSkip = 3
    let done: @Sendable @GLibActor (Still?) -> Void
    let started: Int64
    let frames = Atomic<Int>(0)
    let finished = Atomic<Bool>(false)

    init(done: @escaping @Sendable @GLibActor (Still?) -> Void, started: Int64) {
        self.done = done
        self.started = started
    }

    /// Hands `still` to the loop, unless that already happened.
    func finish(_ still: Still?) {
        guard !finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let done = self.done
        if let still {
            Log.debug("media", "still \(still.width)x\(still.height), \(still.jpeg.count) bytes of JPEG, "
                      + "\((monotonicMicros() - started) / 1000) ms after the grab started")
        }
        GLibLoop.shared.post { done(still) }
    }
}

/// Runs on the camera's streaming thread, behind the valve's drop: encoding here holds up only pictures the
/// valve throws away (or, when a call took the pipeline meanwhile, one frame of it).
private let takeStill: GstPadProbeCallback = { pad, info, data in
    guard let pad, let info, let data, let buffer = info.pointee.data else { return GST_PAD_PROBE_OK }
    let grab = Unmanaged<StillGrab>.fromOpaque(data).takeUnretainedValue()
    guard !grab.finished.load(ordering: .acquiring) else { return GST_PAD_PROBE_REMOVE }
    guard grab.frames.add(1, ordering: .relaxed).newValue > StillGrab.framesToSkip else { return GST_PAD_PROBE_OK }
    grab.finish(encodeStill(buffer.assumingMemoryBound(to: GstBuffer.self), pad: pad))
    return GST_PAD_PROBE_REMOVE
}

/// The probe went away (removed, or the pipeline stopped before a picture came): `done` hears nil if it heard
/// nothing yet.
private let releaseStillGrab: GDestroyNotify = { data in
    guard let data else { return }
    let grab = Unmanaged<StillGrab>.fromOpaque(data).takeRetainedValue()
    grab.finish(nil)
}

/// `buffer` (raw video with `pad`'s caps) as a JPEG.
private func encodeStill(_ buffer: UnsafeMutablePointer<GstBuffer>, pad: UnsafeMutablePointer<GstPad>) -> Still? {
    guard let caps = gst_pad_get_current_caps(pad) else { return nil }
    defer { gst_caps_unref(caps) }
    var videoInfo = GstVideoInfo()
    guard gst_video_info_from_caps(&videoInfo, caps) != 0, let sample = gst_sample_new(buffer, caps, nil, nil) else {
        return nil
    }
    defer { gst_sample_unref(sample) }
    guard let jpegCaps = gst_caps_from_string("image/jpeg") else { return nil }
    defer { gst_caps_unref(jpegCaps) }
    var error: UnsafeMutablePointer<GError>?
    guard let converted = gst_video_convert_sample(sample, jpegCaps, 2_000_000_000, &error) else {
        Log.warning("media", "no still: \(takeError(error))")
        return nil
    }
    defer { gst_sample_unref(converted) }
    guard let jpegBuffer = gst_sample_get_buffer(converted) else { return nil }
    var map = GstMapInfo()
    guard gst_buffer_map(jpegBuffer, &map, GST_MAP_READ) != 0 else { return nil }
    defer { gst_buffer_unmap(jpegBuffer, &map) }
    guard let bytes = map.data, map.size > 0 else { return nil }
    return Still(jpeg: Array(UnsafeBufferPointer(start: bytes, count: Int(map.size))),
                 width: Int(videoInfo.width), height: Int(videoInfo.height))
}
