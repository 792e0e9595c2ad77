/// The H.264 encoder, chosen at start from what the board has (docs/media.md#encoders).
public enum EncoderChoice: String, Sendable, CaseIterable {
    /// The Pi 3/4/Zero 2 hardware encoder (bcm2835-codec); the v4l2 plugin registers it only when the M2M
    /// device exists, so its presence is the capability check.
    case v4l2h264enc
    case x264enc
    case openh264enc

    /// The first installed encoder in order of preference, or nil.
    public static func detect(_ registry: any ElementRegistry = InstalledElements()) -> EncoderChoice? {
        allCases.first { registry.has($0.rawValue) }
    }

    /// The forced encoder when it exists, else the automatic choice; `note` says what happened, for the log.
    public static func choose(forced: EncoderChoice?, _ registry: any ElementRegistry)
        -> (encoder: EncoderChoice?, note: String) {
        if let forced {
            if registry.has(forced.rawValue) { return (forced, "\(forced.rawValue) (forced by media.encoder)") }
            let fallback = detect(registry)
            return (fallback, "media.encoder \(forced.rawValue) is not available here; using "
                    + (fallback?.rawValue ?? "no H.264 encoder"))
        }
        guard let found = detect(registry) else { return (nil, "no H.264 encoder installed") }
        return (found, found == .v4l2h264enc ? "v4l2h264enc (hardware)" : "\(found.rawValue) (software)")
    }

    public var isHardware: Bool { self == .v4l2h264enc }

    /// Picture size when the config names none: the hardware encoder carries 720p; software keeps a Pi 5 cool.
    public var defaultSize: (width: Int, height: Int) { isHardware ? (1280, 720) : (640, 480) }
    public var defaultBitrateKbps: Int { isHardware ? 2500 : 1200 }
}

/// H.264 levels that carry a picture size and rate (Table A-1), from 3.0 up; the Pi's encoder will not start
/// below 3 for VGA at 30 fps, and browsers offer 3.1 (42e01f).
public struct H264Level: Sendable, Equatable {
    public var name: String        // "3", "3.1", "4"
    public var idc: Int            // level_idc: 30, 31, 40
    public var v4l2Menu: Int       // V4L2_MPEG_VIDEO_H264_LEVEL_*

    static let table: [(level: H264Level, frameMacroblocks: Int, macroblocksPerSecond: Int)] = [
        (H264Level(name: "3", idc: 30, v4l2Menu: 8), 1620, 40_500),
        (H264Level(name: "3.1", idc: 31, v4l2Menu: 9), 3600, 108_000),
        (H264Level(name: "3.2", idc: 32, v4l2Menu: 10), 5120, 216_000),
        (H264Level(name: "4", idc: 40, v4l2Menu: 11), 8192, 245_760),
    ]

    /// The lowest level from 3.0 that carries `width`x`height` at `framerate`.
    public static func fitting(width: Int, height: Int, framerate: Int) -> H264Level {
        let frame = ((width + 15) / 16) * ((height + 15) / 16)
        for row in table where frame <= row.frameMacroblocks && frame * framerate <= row.macroblocksPerSecond {
            return row.level
        }
        return table[table.count - 1].level
    }

    /// The SDP `profile-level-id` of constrained baseline at this level with the constraint flags x264 and the
    /// Pi's encoder write (constraint_set0 and set1: `42c0..`).
    public var constrainedBaselineProfileLevelId: String {
        "42c0" + String(idc, radix: 16, uppercase: false).leftPadded(to: 2)
    }
}

extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
