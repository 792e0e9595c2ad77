import CGStreamer
import DoorCore
import MainLoop

extension MediaEngine {
    /// Starts a visit's clip on the warm pipeline, the one a room runs before anyone answers (`WarmPipeline`):
    /// its camera valve opens so the encoder runs, and `ClipRecorder` takes the encoded stream at `enctee`
    /// (`SendPipeline.clipTee`). The webrtcbin there is not negotiated and sends nothing. A call that takes the
    /// pipeline keeps the recording running; one that builds its own stops this pipeline, which cuts the clip
    /// off (it still plays up to there).
    ///
    /// Nil when there is nothing to record from: no warm pipeline (warm join off, it failed, no H.264 encoder).
    /// `withAudio`: the caller's audio too (the speaker mixer's tee, `SendPipeline.clipAudioTee`), when there is one.
    public func startClip(path: String, maxSeconds: Double, withAudio: Bool = false,
                          onDetached: @escaping @Sendable (ClipRecorder.Summary) -> Void) throws(MediaError) -> ClipRecorder? {
        guard let pipeline = warm?.running else { return nil }
        guard let tee = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "enctee") else { return nil }
        defer { gst_object_unref(UnsafeMutableRawPointer(tee)) }
        let audioTee = withAudio ? gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "spktee") : nil
        defer { if let audioTee { gst_object_unref(UnsafeMutableRawPointer(audioTee)) } }
        let recorder = ClipRecorder(pipeline: pipeline, tee: tee, path: path, maxSeconds: maxSeconds, audioTee: audioTee,
                                    onDetached: onDetached)
        try recorder.start()
        WarmClip.recorder = recorder
        if let valve = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "camvalve") {
            gst_util_set_object_arg(UnsafeMutablePointer<GObject>(OpaquePointer(valve)), "drop", "false")
            gst_object_unref(UnsafeMutableRawPointer(valve))
        }
        return recorder
    }

    /// The clip is over: a warm pipeline no call took goes back to dropping the camera's pictures, so the
    /// encoder idles again while the room waits. (A call's pipeline is no longer warm and is left alone.)
    public func clipEnded() {
        guard let pipeline = warm?.running,
              let valve = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "camvalve") else { return }
        gst_util_set_object_arg(UnsafeMutablePointer<GObject>(OpaquePointer(valve)), "drop", "true")
        gst_object_unref(UnsafeMutableRawPointer(valve))
    }
}

/// The clip `startClip` attached to the warm pipeline, finished before that pipeline is stopped under it.
@GLibActor
enum WarmClip {
    static weak var recorder: ClipRecorder?
    /// How long the teardown thread lets the clip write its end (usually a few tens of milliseconds).
    nonisolated static let finishMillis = 500

    /// The warm pipeline is about to stop (a call builds its own, or the room closed): the clip is told to write
    /// its end, and the returned recorder is waited for on the teardown thread (`waitForEnd`) before the
    /// pipeline goes to NULL — never on the loop. Without it, a clip cut off in its first second lost everything
    /// (mp4mux writes its first fragment after a second of stream, or at EOS), and a longer one kept a header
    /// that knows only its first fragment.
    static func stopBeforePipeline() -> ClipRecorder? {
        guard let recorder else { return nil }
        self.recorder = nil
        recorder.stop()
        return recorder
    }

    /// On the teardown thread: waits up to `finishMillis` for the clip's branch to finish writing.
    nonisolated static func waitForEnd(of recorder: ClipRecorder) {
        if !recorder.waitUntilDetached(timeoutMillis: finishMillis) {
            Log.info("media", "the clip did not finish within \(finishMillis) ms of its pipeline stopping")
        }
    }
}
