import CGStreamer
import DoorCore
import MainLoop
import Synchronization

/// When the last packet from the peer came in: every SRTP, SRTCP and DTLS (SCTP) packet that leaves webrtcbin's
/// `nicesrc` elements stamps it. STUN never gets there (libnice answers it itself), so a peer whose browser is
/// gone stops the clock even while our ICE agent still believes the pair is fine.
///
/// Why not ICE consent freshness (RFC 7675): libnice 0.1.21 implements it, but only as a construct-time option of
/// the agent, and webrtcbin 1.22 builds its agent without it; on the wire it sends one binding indication every
/// ~25 s and never a request. A talking browser sends RTP all the time; a watch-only one still sends RTCP
/// receiver reports for our video about once a second, so a few seconds of silence mean the peer is gone.
final class PeerArrivals: Sendable {
    /// `monotonicMicros()` of the last packet (or of `start`, before any).
    let lastMicros = Atomic<Int64>(0)
    let packets = Atomic<Int>(0)

    /// How often a session looks at the clock.
    static let checkEveryMillis: UInt32 = 250

    init() {}

    func stamp() {
        lastMicros.store(monotonicMicros(), ordering: .relaxed)
        packets.add(1, ordering: .relaxed)
    }

    /// Probes every `nicesrc` inside `webrtc` (one with BUNDLE); returns how many it found. Call it once ICE is
    /// connected: the transports exist by then.
    func watch(_ webrtc: UnsafeMutablePointer<GstElement>) -> Int {
        lastMicros.store(monotonicMicros(), ordering: .relaxed)
        var found = 0
        guard let iterator = gst_bin_iterate_recurse(cast(webrtc, to: GstBin.self)) else { return 0 }
        defer { gst_iterator_free(iterator) }
        var value = GValue()
        while gst_iterator_next(iterator, &value) == GST_ITERATOR_OK {
            defer { g_value_reset(&value) }
            guard let object = g_value_get_object(&value) else { continue }
            let element = object.assumingMemoryBound(to: GstElement.self)
            guard let factory = gst_element_get_factory(element),
                  takeGString(gst_object_get_name(UnsafeMutablePointer<GstObject>(factory))) == "nicesrc",
                  let pad = gst_element_get_static_pad(element, "src") else { continue }
            gst_pad_add_probe(pad, GstPadProbeType(rawValue: GST_PAD_PROBE_TYPE_BUFFER.rawValue | GST_PAD_PROBE_TYPE_BUFFER_LIST.rawValue),
                              stampArrival, Unmanaged.passRetained(self).toOpaque(), releaseArrivals)
            gst_object_unref(UnsafeMutableRawPointer(pad))
            found += 1
        }
        g_value_unset(&value)
        return found
    }

    /// Milliseconds since the last packet.
    var silenceMillis: Int64 { (monotonicMicros() - lastMicros.load(ordering: .relaxed)) / 1000 }
}

private let stampArrival: GstPadProbeCallback = { _, _, data in
    if let data { Unmanaged<PeerArrivals>.fromOpaque(data).takeUnretainedValue().stamp() }
    return GST_PAD_PROBE_OK
}

private let releaseArrivals: GDestroyNotify = { data in
    if let data { Unmanaged<PeerArrivals>.fromOpaque(data).release() }
}
