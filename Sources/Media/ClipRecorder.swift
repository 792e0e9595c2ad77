import CGStreamer
import CIntercomShim
import Dispatch
import DoorCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Records the door's already encoded H.264 from a `tee` of a running pipeline into a Matroska file, without a
/// second encoder and without stopping the pipeline.
///
/// The branch is `queue ! h264parse ! matroskamux ! filesink`. matroskamux writes each cluster to the file as
/// it is complete and only goes back at the end to fill in the duration and the seek index, so a file cut off
/// by a power cut or a SIGKILL still demuxes and plays up to its last written cluster (a test kills one to
/// check), and a finished one has an exact duration and can be seeked. (`streamable=true` skips the going
/// back, but then players guess the duration from the last cluster, up to a keyframe interval short.)
///
/// The branch starts on a keyframe (one is asked for upstream with a force-key-unit event, and everything
/// before it is dropped) and ends after `maxSeconds` of stream time or on `stop()`: an idle probe on the tee's
/// pad unlinks the branch, EOS goes into the branch only, and once the muxer's last bytes reach the file the
/// branch is set to NULL, removed and the tee's pad released. The rest of the pipeline never sees any of it.
///
/// Errors from inside the branch (a full disk) are posted on the pipeline's bus like any other: the owner asks
/// `contains(_:)` to tell them apart and calls `stop()` instead of failing the call.
public final class ClipRecorder: @unchecked Sendable {
    // @unchecked: the pointers are set in init and only released in deinit; all mutable state is in `shared`,
    // behind a Mutex, because probes run on streaming threads and `stop()` on the caller's.

    public enum Phase: Sendable, Equatable {
        case idle, waitingForKeyframe, recording, stopping, detached
    }

    /// What the recording came to, once the branch is gone.
    public struct Summary: Sendable, Equatable {
        public var path: String
        /// Stream time from the first keyframe to the last buffer written.
        public var seconds: Double
        public var bytes: Int64
        /// Buffers (H.264 access units) that went into the file.
        public var frames: Int
    }

    struct Shared {
        var phase = Phase.idle
        var firstPTS: UInt64?
        var lastPTS: UInt64?
        var frames = 0
        var limitReached = false
        /// Nothing went into the branch before the stop: it is removed at once, without EOS, and the file is
        /// left empty.
        var stoppedEmpty = false
        /// The audio branch's running time is shifted like the video's: its buffers pass from then on.
        var audioOpen = false
    }

    /// The pads `start()` links the branch with, each holding a reference until deinit.
    struct Pads {
        /// The video tee's request pad and the branch's ghost sink pad it links to.
        var tee: UnsafeMutablePointer<GstPad>?
        var binSink: UnsafeMutablePointer<GstPad>?
        /// The file sink's pad, where EOS tells that the file is complete.
        var file: UnsafeMutablePointer<GstPad>?
        /// The audio tee's request pad and the branch's audio ghost pad (a recording with audio only).
        var audio: UnsafeMutablePointer<GstPad>?
        var audioSink: UnsafeMutablePointer<GstPad>?
    }

    /// The probes that hold a reference to the recorder (0: none); removed when it detaches.
    struct Probes {
        var gate: gulong = 0
        var audioGate: gulong = 0
        var eos: gulong = 0
    }

    public let path: String
    public let maxSeconds: Double?
    private let pipeline: UnsafeMutablePointer<GstElement>
    private let tee: UnsafeMutablePointer<GstElement>
    /// A tee carrying raw audio (the caller's, as the door's speaker gets it), recorded as Opus next to the video.
    private let audioTee: UnsafeMutablePointer<GstElement>?
    private var bin: UnsafeMutablePointer<GstElement>?
    private var pads = Pads()
    private var probes = Probes()
    private let shared = Mutex(Shared())
    private let detached = DispatchSemaphore(value: 0)
    private let queue = DispatchQueue(label: "intercom.clip-recorder")
    private let onDetached: (@Sendable (Summary) -> Void)?

    /// The branch after the tee, as `gst_parse_bin_from_description` reads it (`filesink` gets its location as a
    /// property, so any path works). The queue holds up to two seconds so a slow card does not stall the tee;
    /// `offset-to-zero` starts the clip at 0:00 however long the pipeline has been running.
    public static let branchDescription = "queue name=clipvideo max-size-buffers=0 max-size-bytes=0 max-size-time=2000000000"
        + " leaky=downstream ! h264parse config-interval=-1 ! matroskamux offset-to-zero=true writing-app=intercom"
        + " ! filesink name=clipsink sync=false async=false"

    /// The same branch muxing fragmented MP4 (a `moof` fragment per second after a `moov` up front), which
    /// iOS Safari plays where it does not play Matroska; written as it goes, so a cut-off file still plays up
    /// to its last whole fragment, and finished, its duration is filled in. Chosen for paths ending in `.mp4`.
    public static let mp4BranchDescription = "queue name=clipvideo max-size-buffers=0 max-size-bytes=0 max-size-time=2000000000"
        + " leaky=downstream ! h264parse config-interval=-1 ! mp4mux name=clipmux fragment-duration=1000"
        + " ! filesink name=clipsink sync=false async=false"

    /// The audio part of an MP4 branch with audio: into the same muxer as Opus.
    public static let audioBranchDescription = "queue name=clipaudio max-size-buffers=0 max-size-bytes=0"
        + " max-size-time=2000000000 leaky=downstream ! audioconvert ! audioresample ! audio/x-raw,rate=48000"
        + " ! opusenc bitrate=32000 frame-size=20 ! clipmux."

    /// The branch for a clip file: `.mkv` is Matroska, anything else fragmented MP4 (with audio, if asked).
    public static func branchDescription(forPath path: String, audio: Bool = false) -> String {
        path.hasSuffix(".mkv") ? branchDescription : mp4BranchDescription + (audio ? "  " + audioBranchDescription : "")
    }

    /// `tee` must be an element of `pipeline` whose sink carries `video/x-h264` (the encoder's output).
    /// `audioTee`, when given (MP4 only), must carry raw audio.
    public init(pipeline: UnsafeMutablePointer<GstElement>, tee: UnsafeMutablePointer<GstElement>, path: String,
                maxSeconds: Double?, audioTee: UnsafeMutablePointer<GstElement>? = nil,
                onDetached: (@Sendable (Summary) -> Void)? = nil) {
        self.pipeline = pipeline
        self.tee = tee
        self.audioTee = path.hasSuffix(".mkv") ? nil : audioTee
        if let audioTee = self.audioTee { gst_object_ref(UnsafeMutableRawPointer(audioTee)) }
        self.path = path
        self.maxSeconds = maxSeconds
        self.onDetached = onDetached
        gst_object_ref(UnsafeMutableRawPointer(pipeline))
        gst_object_ref(UnsafeMutableRawPointer(tee))
    }

    deinit {
        for pad in [pads.tee, pads.binSink, pads.file, pads.audio, pads.audioSink] {
            if let pad { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        }
        if let bin { gst_object_unref(UnsafeMutableRawPointer(bin)) }
        if let audioTee { gst_object_unref(UnsafeMutableRawPointer(audioTee)) }
        gst_object_unref(UnsafeMutableRawPointer(tee))
        gst_object_unref(UnsafeMutableRawPointer(pipeline))
    }

    public var phase: Phase { shared.withLock { $0.phase } }

    /// Adds the branch to the running pipeline and asks the encoder for a keyframe. Throws when the file cannot
    /// be created or an element is missing; the pipeline is then untouched.
    public func start() throws(MediaError) {
        guard shared.withLock({ $0.phase }) == .idle else { throw MediaError(.pipelineFailed, "clip \(path) was already started") }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw MediaError(.pipelineFailed, "cannot create clip \(path): \(String(cString: strerror(errno)))") }
        close(fd)
        for name in ["h264parse", path.hasSuffix(".mkv") ? "matroskamux" : "mp4mux"] + (audioTee != nil ? ["opusenc"] : [])
        where !elementExists(name) {
            throw MediaError(.missingElement, "\(name) is not installed (gstreamer1.0-plugins-bad/-good/-base)")
        }

        var error: UnsafeMutablePointer<GError>?
        let description = Self.branchDescription(forPath: path, audio: audioTee != nil)
        guard let made = gst_parse_bin_from_description(description, 0, &error), error == nil else {
            throw MediaError(.pipelineFailed, "clip branch: \(takeError(error))")
        }
        let bin = made
        gst_object_ref_sink(UnsafeMutableRawPointer(bin))
        gst_object_set_name(cast(bin), Self.binName)
        self.bin = bin
        if let video = Self.ghost(bin, element: "clipvideo", as: "sink") { gst_object_unref(UnsafeMutableRawPointer(video)) }
        if audioTee != nil { pads.audioSink = Self.ghost(bin, element: "clipaudio", as: "audio_sink") }
        if let sink = gst_bin_get_by_name(cast(bin), "clipsink") {
            ic_object_set_string(UnsafeMutableRawPointer(sink), "location", path)
            if let pad = gst_element_get_static_pad(sink, "sink") {
                probes.eos = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, clipEOSReached, retainedSelf(),
                                             releaseRecorder)
                pads.file = pad
            }
            gst_object_unref(UnsafeMutableRawPointer(sink))
        }
        guard let binSink = gst_element_get_static_pad(bin, "sink") else {
            dropProbes()
            throw MediaError(.pipelineFailed, "clip branch has no sink pad")
        }
        pads.binSink = binSink
        guard let teePad = gst_element_request_pad_simple(tee, "src_%u") else {
            dropProbes()
            throw MediaError(.pipelineFailed, "the tee gave no pad for the clip")
        }
        pads.tee = teePad

        if let audioTee, pads.audioSink != nil {
            guard let pad = gst_element_request_pad_simple(audioTee, "src_%u") else {
                gst_element_release_request_pad(tee, teePad)
                dropProbes()
                throw MediaError(.pipelineFailed, "the audio tee gave no pad for the clip")
            }
            pads.audio = pad
            probes.audioGate = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, clipAudioGate, retainedSelf(), releaseRecorder)
        }

        shared.withLock { $0.phase = .waitingForKeyframe }
        probes.gate = gst_pad_add_probe(teePad, GST_PAD_PROBE_TYPE_BUFFER, clipGate, retainedSelf(), releaseRecorder)
        gst_bin_add(cast(pipeline), bin)
        let audioLinked = pads.audio.map { pad in pads.audioSink.map { gst_pad_link(pad, $0) == GST_PAD_LINK_OK } ?? false } ?? true
        guard gst_pad_link(teePad, binSink) == GST_PAD_LINK_OK, audioLinked else {
            if let audioPad = pads.audio, let audioSink = pads.audioSink { gst_pad_unlink(audioPad, audioSink) }
            gst_pad_unlink(teePad, binSink)
            gst_bin_remove(cast(pipeline), bin)
            dropProbes()
            gst_element_release_request_pad(tee, teePad)
            if let audioTee, let audioPad = pads.audio { gst_element_release_request_pad(audioTee, audioPad) }
            shared.withLock { $0.phase = .detached }
            throw MediaError(.pipelineFailed, "the tees' pads do not link to the clip branch (is it H.264, and raw audio?)")
        }
        gst_element_sync_state_with_parent(bin)
        requestKeyframe()
        Log.info("media", "recording a clip to \(path)" + (maxSeconds.map { " for \($0) s" } ?? ""))
    }

    /// Ends the recording (the file keeps everything up to now); returns at once, the branch goes away after.
    public func stop() {
        let go = shared.withLock { state -> Bool in
            guard state.phase == .waitingForKeyframe || state.phase == .recording else { return false }
            state.stoppedEmpty = state.phase == .waitingForKeyframe
            state.phase = .stopping
            return true
        }
        guard go, let teePad = pads.tee else { return }
        gst_pad_add_probe(teePad, GST_PAD_PROBE_TYPE_IDLE, clipUnlink, retainedSelf(), releaseRecorder)
    }

    /// Waits until the branch is gone (the file is complete); false on timeout.
    public func waitUntilDetached(timeoutMillis: Int) -> Bool {
        if phase == .idle || phase == .detached { return true }
        guard detached.wait(timeout: .now() + .milliseconds(timeoutMillis)) == .success else { return false }
        detached.signal()  // later callers see it too
        return true
    }

    /// Whether a bus message's source is inside this recorder's branch (a write error is the clip's, not the call's).
    public func contains(_ object: UnsafeMutablePointer<GstObject>) -> Bool {
        guard let bin else { return false }
        return object == cast(bin) || gst_object_has_as_ancestor(object, cast(bin)) != 0
    }

    /// The branch's name in the pipeline (one clip per pipeline at a time).
    public static let binName = "visit-clip"

    /// Whether a bus message's source is inside a clip branch of any recorder: a call's bus handler leaves
    /// those errors (a full card) to the recorder instead of ending the call. The branch fails alone: the tee
    /// keeps feeding the call (a test writes a clip to /dev/full).
    /// A pipeline's error that came from a visit clip's branch is logged as the clip's and true is returned: the
    /// call (or visit) that owns the bus goes on. False for every other error.
    static func tookError(_ message: UnsafeMutablePointer<GstMessage>, source: String, _ text: String) -> Bool {
        guard let src = message.pointee.src, isInsideClip(src) else { return false }
        Log.warning("media", "visit clip: \(source): \(text); the call goes on")
        return true
    }

    public static func isInsideClip(_ object: UnsafeMutablePointer<GstObject>) -> Bool {
        var current: UnsafeMutablePointer<GstObject>? = object
        gst_object_ref(UnsafeMutableRawPointer(object))
        while let node = current {
            let found = node.pointee.name.map { String(cString: $0) == binName } ?? false
            let parent = gst_object_get_parent(node)
            gst_object_unref(UnsafeMutableRawPointer(node))
            if found {
                if let parent { gst_object_unref(UnsafeMutableRawPointer(parent)) }
                return true
            }
            current = parent
        }
        return false
    }

    public var summary: Summary {
        let state = shared.withLock { $0 }
        let seconds = state.firstPTS.flatMap { first in state.lastPTS.map { Double($0 &- first) / 1e9 } } ?? 0
        var info = stat()
        let bytes = stat(path, &info) == 0 ? Int64(info.st_size) : 0
        return Summary(path: path, seconds: seconds, bytes: bytes, frames: state.frames)
    }

    // MARK: - Streaming-thread side

    private func retainedSelf() -> UnsafeMutableRawPointer { Unmanaged.passRetained(self).toOpaque() }

    /// A force-key-unit event up the tee to the encoder, with the stream headers (SPS/PPS) again.
    private func requestKeyframe() {
        guard let teePad = pads.tee, let event = gst_video_event_new_upstream_force_key_unit(GstClockTime.max, 1, 0) else { return }
        gst_pad_send_event(teePad, event)
    }

    /// Decides for each buffer the tee offers the branch: dropped until a keyframe, passed while recording,
    /// dropped once the limit is reached (and the stop begins).
    fileprivate func gate(_ buffer: UnsafeMutablePointer<GstBuffer>) -> GstPadProbeReturn {
        let pts = UInt64(buffer.pointee.pts)
        let noTime = UInt64.max  // GST_CLOCK_TIME_NONE
        let keyframe = buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0
        let limit = maxSeconds.map { UInt64($0 * 1e9) }
        enum Verdict { case pass, drop, dropAndStop }
        var first = false
        let verdict = shared.withLock { state -> Verdict in
            switch state.phase {
            case .waitingForKeyframe:
                guard keyframe else { return .drop }
                state.phase = .recording
                state.firstPTS = pts
                first = true
                fallthrough
            case .recording:
                if let limit, let first = state.firstPTS, pts != noTime, pts &- first >= limit {
                    state.limitReached = true
                    return .dropAndStop
                }
                state.frames += 1
                if pts != noTime { state.lastPTS = pts }
                return .pass
            case .idle, .stopping, .detached:
                return .drop
            }
        }
        if first {
            if pts != noTime { startAtZero(pts) }
            shared.withLock { $0.audioOpen = true }
        }
        switch verdict {
        case .pass: return GST_PAD_PROBE_OK
        case .drop: return GST_PAD_PROBE_DROP
        case .dropAndStop:
            // Not from inside the tee's push: the idle probe would wait for this very push to end.
            queue.async { self.stop() }
            return GST_PAD_PROBE_DROP
        }
    }

    /// Shifts the branch's running time so the first keyframe is at 0: mp4mux (unlike matroskamux with
    /// `offset-to-zero`) would otherwise start the clip with a gap as long as the pipeline had been running.
    /// Called from the tee pad's own probe: the pad re-sends its segment with the offset before this buffer.
    private func startAtZero(_ pts: UInt64) {
        guard let teePad = pads.tee, let event = gst_pad_get_sticky_event(teePad, GST_EVENT_SEGMENT, 0) else { return }
        defer { gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(OpaquePointer(event))) }
        var segment: UnsafePointer<GstSegment>?
        gst_event_parse_segment(event, &segment)
        guard let segment else { return }
        let running = UInt64(gst_segment_to_running_time(segment, GST_FORMAT_TIME, guint64(pts)))
        guard running != UInt64.max, running > 0, running < UInt64(Int64.max) else { return }
        gst_pad_set_offset(teePad, gint64(-Int64(running)))
        if let audioPad = pads.audio { gst_pad_set_offset(audioPad, gint64(-Int64(running))) }
    }

    /// The tee's pad is idle: cut the branch off and let EOS run through it (the audio side the same way, at
    /// its own tee's idle moment: the muxer finishes once both ended).
    fileprivate func unlink() {
        guard let teePad = pads.tee, let binSink = pads.binSink else { return }
        gst_pad_unlink(teePad, binSink)
        if shared.withLock({ $0.stoppedEmpty }) {
            queue.async { self.teardown() }
        } else {
            if let audioPad = pads.audio {
                gst_pad_add_probe(audioPad, GST_PAD_PROBE_TYPE_IDLE, clipAudioUnlink, retainedSelf(), releaseRecorder)
            }
            gst_pad_send_event(binSink, gst_event_new_eos())
        }
    }

    fileprivate func unlinkAudio() {
        guard let audioPad = pads.audio, let audioSink = pads.audioSink else { return }
        gst_pad_unlink(audioPad, audioSink)
        gst_pad_send_event(audioSink, gst_event_new_eos())
    }

    /// Audio passes once the video has started and both share its running time.
    fileprivate func audioGate() -> GstPadProbeReturn {
        shared.withLock { $0.phase == .recording && $0.audioOpen } ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP
    }

    /// A ghost pad on `bin` for the sink pad of its element `name`; nil (logged) if there is none.
    private static func ghost(_ bin: UnsafeMutablePointer<GstElement>, element name: String, as ghostName: String)
        -> UnsafeMutablePointer<GstPad>? {
        guard let element = gst_bin_get_by_name(cast(bin), name) else { return nil }
        defer { gst_object_unref(UnsafeMutableRawPointer(element)) }
        guard let target = gst_element_get_static_pad(element, "sink") else { return nil }
        defer { gst_object_unref(UnsafeMutableRawPointer(target)) }
        guard let ghost = gst_ghost_pad_new(ghostName, target) else { return nil }
        gst_pad_set_active(ghost, 1)
        gst_element_add_pad(bin, ghost)
        gst_object_ref(UnsafeMutableRawPointer(ghost))
        return ghost
    }

    /// EOS reached the file: everything the muxer had is written. Tear the branch down off the streaming thread.
    fileprivate func eosReached() {
        queue.async { self.teardown() }
    }

    /// The probes hold references to the recorder: removing them lets it go.
    private func dropProbes() {
        if let pad = pads.tee, probes.gate != 0 { gst_pad_remove_probe(pad, probes.gate) }
        if let pad = pads.audio, probes.audioGate != 0 { gst_pad_remove_probe(pad, probes.audioGate) }
        if let pad = pads.file, probes.eos != 0 { gst_pad_remove_probe(pad, probes.eos) }
        probes = Probes()
    }

    private func teardown() {
        guard let bin else { return }
        // Stopped before anything was muxed: the audio side is still linked (no EOS went that way).
        if let audioPad = pads.audio, let audioSink = pads.audioSink, gst_pad_is_linked(audioPad) != 0 {
            gst_pad_unlink(audioPad, audioSink)
        }
        gst_element_set_state(bin, GST_STATE_NULL)
        gst_bin_remove(cast(pipeline), bin)
        dropProbes()
        if let teePad = pads.tee { gst_element_release_request_pad(tee, teePad) }
        if let audioTee, let audioPad = pads.audio { gst_element_release_request_pad(audioTee, audioPad) }
        shared.withLock { $0.phase = .detached }
        let summary = self.summary
        Log.info("media", "clip \(path): \(summary.frames) frames, \(summary.bytes) bytes")
        detached.signal()
        onDetached?(summary)
    }
}

private let releaseRecorder: GDestroyNotify = { data in
    if let data { Unmanaged<ClipRecorder>.fromOpaque(data).release() }
}

private let clipGate: GstPadProbeCallback = { _, info, data in
    guard let info, let data, let buffer = info.pointee.data else { return GST_PAD_PROBE_OK }
    let recorder = Unmanaged<ClipRecorder>.fromOpaque(data).takeUnretainedValue()
    return recorder.gate(buffer.assumingMemoryBound(to: GstBuffer.self))
}

private let clipAudioGate: GstPadProbeCallback = { _, _, data in
    guard let data else { return GST_PAD_PROBE_OK }
    return Unmanaged<ClipRecorder>.fromOpaque(data).takeUnretainedValue().audioGate()
}

private let clipAudioUnlink: GstPadProbeCallback = { _, _, data in
    guard let data else { return GST_PAD_PROBE_REMOVE }
    Unmanaged<ClipRecorder>.fromOpaque(data).takeUnretainedValue().unlinkAudio()
    return GST_PAD_PROBE_REMOVE
}

private let clipUnlink: GstPadProbeCallback = { _, _, data in
    guard let data else { return GST_PAD_PROBE_REMOVE }
    Unmanaged<ClipRecorder>.fromOpaque(data).takeUnretainedValue().unlink()
    return GST_PAD_PROBE_REMOVE
}

private let clipEOSReached: GstPadProbeCallback = { _, info, data in
    guard let info, let data, let event = info.pointee.data else { return GST_PAD_PROBE_OK }
    if event.assumingMemoryBound(to: GstEvent.self).pointee.type == GST_EVENT_EOS {
        Unmanaged<ClipRecorder>.fromOpaque(data).takeUnretainedValue().eosReached()
    }
    return GST_PAD_PROBE_OK
}
