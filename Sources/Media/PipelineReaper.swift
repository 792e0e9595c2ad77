import CGStreamer
import Dispatch
import DoorCore
import MainLoop

/// Stops ended sessions' pipelines, and starts a room's warm pipeline, on a worker thread of its own, so the
/// loop thread never waits for them.
///
/// Stopping a webrtcbin pipeline waits for webrtcbin's queued operations (up to 500 ms, see
/// `releaseWebRTCPipeline`) and for every streaming thread to join in the state change to NULL; on a loaded Pi
/// that took up to a second, during which no button, socket or timer was served. Here the work runs on one
/// serial queue, in the order the sessions ended, and each finish is posted back to the loop.
///
/// A camera or an ALSA device is free again only once the old pipeline reached NULL, so a new call starts its
/// pipeline through `afterTeardowns`: at once when nothing is being stopped or started, else on the loop right
/// after the last pending stop or start finished. Starting a pipeline (`start`) takes as long under load (848 ms
/// once: plugins, elements, the camera and every streaming thread), and runs on the same thread, in order with
/// the stops.
@GLibActor
public final class PipelineReaper {
    public static let shared = PipelineReaper()

    /// Pipelines handed over and not yet stopped, and pipelines being started.
    public private(set) var inFlight = 0
    /// Pipelines stopped since the process started.
    public private(set) var stopped = 0
    /// How long the last stop took on the teardown thread: what the loop used to wait.
    public private(set) var lastStopMillis: Double = 0
    private var waiting: [@GLibActor () -> Void] = []
    private nonisolated let queue = DispatchQueue(label: "intercom.pipeline-teardown")

    private init() {}

    /// Takes over the session's references and stops the pipeline off the loop; either may be nil. `first` runs
    /// on the teardown thread before the stop, while the pipeline still plays (a clip writing its end).
    func release(_ pipeline: UnsafeMutablePointer<GstElement>?, webrtc: UnsafeMutablePointer<GstElement>?,
                 first: (@Sendable () -> Void)? = nil) {
        guard pipeline != nil || webrtc != nil else { return }
        inFlight += 1
        let box = PipelineRefs(pipeline: pipeline, webrtc: webrtc)
        queue.async {
            first?()
            let started = monotonicMicros()
            releaseWebRTCPipeline(box.pipeline, webrtc: box.webrtc)
            let millis = Double(monotonicMicros() - started) / 1000
            GLibLoop.shared.post { PipelineReaper.shared.finished(millis: millis) }
        }
    }

    /// Runs `launch` on the teardown thread, after every stop handed over before it (the camera and the sound
    /// card are free by then), and `done` on the loop with what it returned and how long it took. Counted in
    /// `inFlight` until `done` returned: `done` may hand a pipeline nobody wants any more straight to `release`,
    /// and whatever waits in `afterTeardowns` runs only after that stop too.
    func start(_ launch: @escaping @Sendable () -> UnsafeMutablePointer<GstElement>?,
               done: @escaping @Sendable @GLibActor (UnsafeMutablePointer<GstElement>?, Double) -> Void) {
        inFlight += 1
        queue.async {
            let started = monotonicMicros()
            let box = PipelineRefs(pipeline: launch(), webrtc: nil)
            let millis = Double(monotonicMicros() - started) / 1000
            GLibLoop.shared.post {
                done(box.pipeline, millis)
                PipelineReaper.shared.settled()
            }
        }
    }

    /// Runs `body` on the loop once no pipeline is being stopped or started: now, or after the last pending one.
    public func afterTeardowns(_ body: @escaping @GLibActor () -> Void) {
        if inFlight == 0 { body() } else { waiting.append(body) }
    }

    /// Tests: runs `body` on the teardown thread, in line with the teardowns (to hold them back on purpose).
    nonisolated func onTeardownThread(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    private func finished(millis: Double) {
        stopped += 1
        lastStopMillis = millis
        Log.debug("media", "a pipeline stopped in \(millis) ms on the teardown thread")
        settled()
    }

    private func settled() {
        inFlight -= 1
        guard inFlight == 0 else { return }
        let ready = waiting
        waiting = []
        ready.forEach { $0() }
    }
}

/// The session's references, moved to the teardown thread (or a started pipeline's, back to the loop); nothing
/// else holds them once handed over.
private struct PipelineRefs: @unchecked Sendable {
    let pipeline: UnsafeMutablePointer<GstElement>?
    let webrtc: UnsafeMutablePointer<GstElement>?
}
