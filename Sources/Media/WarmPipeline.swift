import CGStreamer
import DoorCore
import MainLoop

/// A call pipeline built and started when a room opens, before any caller's offer exists, so that the answer is
/// made against sources, encoders and an echo canceller that are already running (docs/latency-and-footprint.md).
/// `launch` builds and starts it on the reaper's thread; the running pipeline is then adopted on the loop.
///
/// It is the exact description the next call would build, with the payload types of the last offer the door
/// answered as the guess for the next one. The camera's `valve` drops every picture but forwards the caps, so
/// the encoder is configured and waiting without encoding; webrtcbin has no remote description and no ICE agent
/// gathering, so nothing leaves the door. A call whose description differs (other payload types, the door
/// offering) does not take it: it is stopped first, which frees the camera and the sound card for the call's own.
@GLibActor
final class WarmPipeline {
    let send: SendPipeline
    let video: SendPipeline.VideoCodec?
    let audioPayloadType: Int?
    private var element: UnsafeMutablePointer<GstElement>?

    /// Takes over a pipeline `launch` started on the reaper's thread (`MediaEngine.warmUp`).
    init(adopting element: UnsafeMutablePointer<GstElement>, send: SendPipeline, video: SendPipeline.VideoCodec?,
         audioPayloadType: Int?) {
        self.send = send
        self.video = video
        self.audioPayloadType = audioPayloadType
        self.element = element
    }

    /// Builds `description` with the camera's valve closed and starts it: the part that takes the time (plugins
    /// loaded, elements made, the camera and the sound card opened, every streaming thread started), so it runs
    /// on `PipelineReaper`'s thread, never on the loop. Nil (logged) when it does not start: the call then
    /// builds its own.
    nonisolated static func launch(_ description: String) -> UnsafeMutablePointer<GstElement>? {
        var error: UnsafeMutablePointer<GError>?
        let parsed = gst_parse_launch(description, &error)
        guard let element = parsed, error == nil else {
            if let parsed { gst_object_unref(UnsafeMutableRawPointer(parsed)) }
            Log.warning("media", "warm pipeline: \(takeError(error)); the call builds its own")
            return nil
        }
        if let valve = gst_bin_get_by_name(cast(element, to: GstBin.self), "camvalve") {
            let object = UnsafeMutablePointer<GObject>(OpaquePointer(valve))
            gst_util_set_object_arg(object, "drop-mode", "forward-sticky-events")
            gst_util_set_object_arg(object, "drop", "true")
            gst_object_unref(UnsafeMutableRawPointer(valve))
        }
        guard gst_element_set_state(element, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            Log.warning("media", "warm pipeline would not start; the call builds its own")
            let webrtc = gst_bin_get_by_name(cast(element, to: GstBin.self), "webrtc")
            releaseWebRTCPipeline(element, webrtc: webrtc)
            return nil
        }
        return element
    }

    isolated deinit { stop() }

    /// The pipeline while it waits (the tests look inside).
    var running: UnsafeMutablePointer<GstElement>? { element }

    /// The running pipeline when `send` with these payload types describes the same pipeline and nothing went
    /// wrong while it waited; else nil, after stopping it. Either way this object holds nothing afterwards.
    func take(for send: SendPipeline, video: SendPipeline.VideoCodec?, audioPayloadType: Int?)
        -> UnsafeMutablePointer<GstElement>? {
        guard let element else { return nil }
        var mine = self.send
        mine.echoProbeName = send.echoProbeName
        let same = mine.description(video: self.video, audioPayloadType: self.audioPayloadType)
            == send.description(video: video, audioPayloadType: audioPayloadType)
        guard same, !hasPendingError(element) else {
            Log.debug("media", same ? "warm pipeline reported an error; building the call's own"
                                    : "the offer does not match the warm pipeline; building the call's own")
            stop()
            return nil
        }
        if let valve = gst_bin_get_by_name(cast(element, to: GstBin.self), "camvalve") {
            gst_util_set_object_arg(UnsafeMutablePointer<GObject>(OpaquePointer(valve)), "drop", "false")
            gst_object_unref(UnsafeMutableRawPointer(valve))
        }
        self.element = nil
        return element
    }

    /// Stops the pipeline off the loop (`PipelineReaper`): a call that needs the camera or the sound card
    /// starts its own pipeline only once this one reached NULL.
    func stop() {
        guard let element else { return }
        let clip = WarmClip.stopBeforePipeline()
        self.element = nil
        let webrtc = gst_bin_get_by_name(cast(element, to: GstBin.self), "webrtc")
        var finishClip: (@Sendable () -> Void)?
        if let clip { finishClip = { WarmClip.waitForEnd(of: clip) } }
        PipelineReaper.shared.release(element, webrtc: webrtc, first: finishClip)
    }

    private func hasPendingError(_ element: UnsafeMutablePointer<GstElement>) -> Bool {
        guard let bus = gst_element_get_bus(element) else { return false }
        defer { gst_object_unref(UnsafeMutableRawPointer(bus)) }
        guard let message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR) else { return false }
        gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(OpaquePointer(message)))
        return true
    }
}
