import CGStreamer
import Intercom
import MainLoop

/// GStreamer set-up for the process: `gst_init`, the plugin check, the encoder choice.
@GLibActor
public final class MediaEngine {
    public let encoder: EncoderChoice
    public let settings: MediaSettings

    /// Initialises GStreamer and checks every element the call pipeline needs, naming the package to install.
    public init(settings: MediaSettings) throws(MediaError) {
        gst_init(nil, nil)
        for (element, package) in Self.requiredElements where !elementExists(element) {
            throw MediaError(.missingElement, "GStreamer element \(element) is missing: install \(package)")
        }
        guard let encoder = EncoderChoice.detect() else {
            throw MediaError(.missingElement,
                             "no H.264 encoder: install gstreamer1.0-plugins-ugly (x264enc) or gstreamer1.0-plugins-bad (openh264enc)")
        }
        if !elementExists("avdec_h264") && !elementExists("openh264dec") {
            Log.warning("media", "no H.264 decoder (install gstreamer1.0-libav): the caller's video will not decode")
        }
        self.encoder = encoder
        self.settings = settings
        Log.info("media", "GStreamer \(Self.version()), H.264 encoder \(encoder.rawValue)")
    }

    /// Every element the call pipeline needs, with the Debian package that has it.
    public nonisolated static let requiredElements: [(element: String, package: String)] = [
        ("webrtcbin", "gstreamer1.0-plugins-bad"), ("nicesrc", "gstreamer1.0-nice"),
        ("dtlssrtpenc", "gstreamer1.0-plugins-bad"), ("rtph264pay", "gstreamer1.0-plugins-good"),
        ("rtpopuspay", "gstreamer1.0-plugins-good"), ("opusenc", "gstreamer1.0-plugins-base"),
        ("videotestsrc", "gstreamer1.0-plugins-base"), ("audiotestsrc", "gstreamer1.0-plugins-base"),
        ("decodebin", "gstreamer1.0-plugins-base"), ("videoconvert", "gstreamer1.0-plugins-base"),
    ]

    public nonisolated static func version() -> String {
        var major: guint = 0, minor: guint = 0, micro: guint = 0, nano: guint = 0
        gst_version(&major, &minor, &micro, &nano)
        return "\(major).\(minor).\(micro)"
    }
}
