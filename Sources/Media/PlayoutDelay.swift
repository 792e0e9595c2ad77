import CGStreamer
import DoorCore

/// Chromium's playout-delay RTP header extension (`SDPOffer.playoutDelayURI`) with min = max = 0 on every video
/// packet the door sends: the browser then renders each picture as soon as it is decoded instead of holding it
/// for a jitter buffer target (docs/benchmarks.md#where-the-door-to-page-delay-goes). GStreamer 1.22 has no
/// element for this extension, so a pad probe on the payloader's output writes it (one-byte form, RFC 8285).
///
/// The three bytes are two 12-bit delays in units of 10 ms, minimum then maximum; all zero asks for none.
enum PlayoutDelay {
    /// Adds the extension with `extensionID` (the offer's, answered by the payloader's caps) to every packet
    /// leaving the element named `vpay` in `bin`.
    static func attach(to bin: UnsafeMutablePointer<GstBin>, extensionID: Int) {
        guard (1...14).contains(extensionID), let payloader = gst_bin_get_by_name(bin, "vpay") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(payloader)) }
        guard let pad = gst_element_get_static_pad(payloader, "src") else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        let types = GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER.rawValue | GST_PAD_PROBE_TYPE_BUFFER_LIST.rawValue)
        gst_pad_add_probe(pad, types, writePlayoutDelay, UnsafeMutableRawPointer(bitPattern: extensionID), nil)
    }
}

/// Runs on the payloader's streaming thread; touches only the packets in hand (made writable first).
private let writePlayoutDelay: GstPadProbeCallback = { _, info, data in
    guard let info, let object = info.pointee.data else { return GST_PAD_PROBE_OK }
    let id = UInt8(truncatingIfNeeded: Int(bitPattern: data))
    guard let writable = gst_mini_object_make_writable(object.assumingMemoryBound(to: GstMiniObject.self)) else {
        return GST_PAD_PROBE_OK
    }
    info.pointee.data = UnsafeMutableRawPointer(writable)
    if info.pointee.type.rawValue & GST_PAD_PROBE_TYPE_BUFFER_LIST.rawValue != 0 {
        let list = OpaquePointer(writable)
        for index in 0..<gst_buffer_list_length(list) {
            if let buffer = gst_buffer_list_get_writable(list, index) { addZeroPlayoutDelay(buffer, id: id) }
        }
    } else {
        addZeroPlayoutDelay(UnsafeMutableRawPointer(writable).assumingMemoryBound(to: GstBuffer.self), id: id)
    }
    return GST_PAD_PROBE_OK
}

private func addZeroPlayoutDelay(_ buffer: UnsafeMutablePointer<GstBuffer>, id: UInt8) {
    var rtp = GstRTPBuffer()
    guard gst_rtp_buffer_map(buffer, GstMapFlags(GST_MAP_READ.rawValue | GST_MAP_WRITE.rawValue), &rtp) != 0 else { return }
    let zero: [UInt8] = [0, 0, 0]
    _ = zero.withUnsafeBytes { gst_rtp_buffer_add_extension_onebyte_header(&rtp, id, $0.baseAddress, 3) }
    gst_rtp_buffer_unmap(&rtp)
}
