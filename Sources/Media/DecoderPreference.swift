import CGStreamer
import DoorCore

/// Which H.264 decoder `decodebin` picks for the caller's video.
///
/// By rank it takes `avdec_h264`, and with it libavcodec and libavfilter, which on Debian pull in some hundred
/// libraries (speech synthesis voices, AV1 and HEVC encoders, SVG): the door's resident size grew by about
/// 42 MiB of mapped libraries at its first call and kept them (docs/benchmarks.md#memory). `openh264dec` decodes
/// the constrained-baseline stream browsers send with one small library at about the same CPU (measured on
/// 640×480 and 1280×720), so it goes first when installed. A hardware decoder (`v4l2h264dec` on a Pi 4)
/// outranks both and is left alone.
enum DecoderPreference {
    static func preferSmallH264Decoder() {
        guard elementExists("openh264dec"), elementExists("avdec_h264"), !elementExists("v4l2h264dec"),
              let feature = gst_registry_find_feature(gst_registry_get(), "openh264dec", gst_element_factory_get_type())
        else { return }
        defer { gst_object_unref(UnsafeMutableRawPointer(feature)) }
        gst_plugin_feature_set_rank(feature, guint(GST_RANK_PRIMARY.rawValue + 1))
        Log.debug("media", "H.264 decoder: openh264dec before avdec_h264 (a fraction of the memory)")
    }
}
