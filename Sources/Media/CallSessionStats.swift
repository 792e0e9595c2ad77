import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop

// MARK: - Encoder watch and stats (streaming threads)

let watchEncoderPad: GstPadProbeCallback = { _, info, data in
    guard let info, let data else { return GST_PAD_PROBE_OK }
    let counters = Unmanaged<MediaCounters>.fromOpaque(data).takeUnretainedValue()
    if info.pointee.type.rawValue & GST_PAD_PROBE_TYPE_BUFFER.rawValue != 0 {
        let buffer = info.pointee.data.assumingMemoryBound(to: GstBuffer.self)
        if buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0 {
            counters.keyframesSent.add(1, ordering: .relaxed)
        }
    } else if let event = info.pointee.data?.assumingMemoryBound(to: GstEvent.self),
              gst_video_event_is_force_key_unit(event) != 0 {
        counters.keyframeRequests.add(1, ordering: .relaxed)
    }
    return GST_PAD_PROBE_OK
}

/// Packets the peer reports lost (RTCP receiver reports) and packets we sent, summed over our streams, and
/// the largest `fraction-lost` of the last report when webrtcbin gives it.
/// What the peer's receiver reports say, summed over our streams: packets lost so far, and the extended
/// highest sequence number received (the packets expected so far, plus each stream's start).
struct LossCounts: Sendable {
    var lost = 0
    var expected = 0
}

func lossCounts(_ outcome: PromiseOutcome) -> LossCounts? {
    guard case .replied(let reply?) = outcome else { return nil }
    var counts = LossCounts()
    let structureType = gst_structure_get_type()
    for index in 0..<gst_structure_n_fields(reply) {
        guard let name = gst_structure_nth_field_name(reply, guint(index)),
              let value = gst_structure_get_value(reply, name), g_type_check_value_holds(value, structureType) != 0,
              let stats = gst_value_get_structure(value) else { continue }
        var type: gint = 0
        guard gst_structure_get_enum(stats, "type", gst_webrtc_stats_type_get_type(), &type) != 0 else { continue }
        guard type == gint(GST_WEBRTC_STATS_REMOTE_INBOUND_RTP.rawValue) else { continue }
        // The report block itself is in the rtpsource's stats: have-rb, rb-packetslost, rb-exthighestseq.
        guard let sourceValue = gst_structure_get_value(stats, "gst-rtpsource-stats"),
              g_type_check_value_holds(sourceValue, structureType) != 0,
              let source = gst_value_get_structure(sourceValue) else { continue }
        var haveReport: gboolean = 0, lost: gint = 0, highest: guint = 0
        guard gst_structure_get_boolean(source, "have-rb", &haveReport) != 0, haveReport != 0,
              gst_structure_get_int(source, "rb-packetslost", &lost) != 0,
              gst_structure_get_uint(source, "rb-exthighestseq", &highest) != 0 else { continue }
        counts.lost += Int(max(0, lost))
        counts.expected += Int(highest)
    }
    return counts
}
