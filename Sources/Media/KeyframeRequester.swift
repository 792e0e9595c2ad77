import CGStreamer
import DoorCore
import MainLoop

/// Asks a pipeline's one encoder (`venc`) for keyframes on behalf of every phone of a visit, through a
/// `KeyframeGate`: at most one per `gapMicros`, a request inside the window served when it ends. Used by
/// `VisitFanout` and `HouseholdVisit`.
@GLibActor
final class KeyframeRequester {
    /// Borrowed: the owner keeps the pipeline alive until `cancel()`.
    private var pipeline: UnsafeMutablePointer<GstElement>?
    private var gate: KeyframeGate
    private var timer: GLibTimer?
    /// Keyframes asked of the encoder (after the gate).
    private(set) var requested = 0

    init(pipeline: UnsafeMutablePointer<GstElement>, gapMicros: Int64 = 1_000_000) {
        self.pipeline = pipeline
        gate = KeyframeGate(intervalMicros: gapMicros)
    }

    func request() {
        guard pipeline != nil else { return }
        switch gate.request(nowMicros: monotonicMicros()) {
        case .now:
            forceKeyUnit()
        case .at(let when):
            let delay = UInt32(max(0, (when - monotonicMicros()) / 1000) + 1)
            timer = GLibTimer(milliseconds: delay) { [weak self] in
                guard let self else { return }
                timer = nil
                if gate.due(atMicros: monotonicMicros()) { forceKeyUnit() }
            }
        case .alreadyPending:
            break
        }
    }

    /// The pipeline is going: no more requests reach it.
    func cancel() {
        timer = nil
        pipeline = nil
    }

    private func forceKeyUnit() {
        guard let pipeline, let encoder = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "venc") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(encoder)) }
        guard let pad = gst_element_get_static_pad(encoder, "src") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        // An upstream event sent to the encoder's source pad is what a payloader passes up for a PLI.
        if let event = gst_video_event_new_upstream_force_key_unit(GstClockTime.max, 1, 0) {
            gst_pad_send_event(pad, event)
            requested += 1
        }
    }
}
