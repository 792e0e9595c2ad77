import CGStreamer
import DoorCore
import Synchronization

/// Drops pictures at the head of a screen branch (the caller's video, the self-view) so that the branch's
/// `videoconvert ! videoscale` runs only for the pictures the screen shows, `framesPerSecond` a second, instead of
/// for every picture of a 30 fps stream and throwing half away at the appsink. Not `videorate`: it aborts on
/// WebRTC's buffers without a duration (GStreamer 1.22). The interval has a quarter of slack so that a picture
/// that arrives a little early is not dropped with its successor (the appsink tap allows the same).
final class FrameThinning: Sendable {
    let minimumIntervalMicros: Int64
    let lastPassedMicros = Atomic<Int64>(0)

    init(framesPerSecond: Int) { minimumIntervalMicros = Int64(750_000 / max(1, framesPerSecond)) }

    /// Adds the thinning probe to `pad` (pictures flowing into a branch).
    static func attach(to pad: UnsafeMutablePointer<GstPad>, framesPerSecond: Int) {
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, thinPictures,
                          Unmanaged.passRetained(FrameThinning(framesPerSecond: framesPerSecond)).toOpaque(),
                          { data in if let data { Unmanaged<FrameThinning>.fromOpaque(data).release() } })
    }
}

/// Runs on the streaming thread; only this pad's pictures touch `lastPassedMicros`.
private let thinPictures: GstPadProbeCallback = { _, _, data in
    guard let data else { return GST_PAD_PROBE_OK }
    let thinning = Unmanaged<FrameThinning>.fromOpaque(data).takeUnretainedValue()
    let now = monotonicMicros()
    guard now - thinning.lastPassedMicros.load(ordering: .relaxed) >= thinning.minimumIntervalMicros else {
        return GST_PAD_PROBE_DROP
    }
    thinning.lastPassedMicros.store(now, ordering: .relaxed)
    return GST_PAD_PROBE_OK
}
