/// How the device's send branches are built. The skeleton uses test sources; cameras come later.
public struct MediaSettings: Sendable, Equatable {
    public var width = 640
    public var height = 480
    public var framerate = 30
    public var videoBitrateKbps = 1500
    /// Receive jitter buffer; tens of milliseconds, not webrtcbin's 200 ms default.
    public var jitterLatencyMillis = 60
    /// Width the caller's video is scaled to for the device screen (height follows its aspect); 0 = not shown.
    public var remoteVideoWidth = 0
    /// At most this many of the caller's pictures a second go to the screen.
    public var remoteVideoFramesPerSecond = 15
    /// `stun://host:port`, or nil on a LAN.
    public var stunServer: String?
    public init() {}
}

/// The H.264 encoder chosen at start-up from what is installed.
public enum EncoderChoice: String, Sendable, CaseIterable {
    case x264enc, openh264enc

    /// The first installed encoder in order of preference, or nil.
    public static func detect() -> EncoderChoice? { allCases.first { elementExists($0.rawValue) } }

    func description(bitrateKbps: Int) -> String {
        switch self {
        case .x264enc:
            return "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=\(bitrateKbps) "
                + "! video/x-h264,profile=constrained-baseline"
        case .openh264enc:
            return "openh264enc complexity=low multi-thread=2 gop-size=60 bitrate=\(bitrateKbps * 1000)"
        }
    }
}
