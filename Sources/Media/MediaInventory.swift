import Glibc

/// What this machine has for media: GStreamer elements, cameras, sound cards, a PulseAudio server.
/// `scan()` looks; tests build one by hand for a board they are not running on.
public struct MediaInventory: Sendable {
    public struct Camera: Sendable, Equatable {
        public var device: String   // /dev/videoN
        public var name: String     // the driver's name from sysfs
        public init(device: String, name: String) { self.device = device; self.name = name }
    }

    public var elements: any ElementRegistry
    /// USB (UVC) and other V4L2 capture devices; codec and ISP nodes left out.
    public var v4l2Cameras: [Camera] = []
    /// A Pi camera's receiver node (unicam on a Pi 4, rp1-cfe on a Pi 5) exists: libcamera has a camera.
    public var piCameraReceiver: Camera?
    /// ALSA has a capture / a playback PCM (/proc/asound/pcm).
    public var alsaCapture = false
    public var alsaPlayback = false
    /// The ALSA cards, one line each (/proc/asound/cards), for `intercom probe`.
    public var soundCards: [String] = []
    /// A PulseAudio (or PipeWire-Pulse) server socket exists.
    public var pulseServer: String?

    public init(elements: any ElementRegistry) { self.elements = elements }

    /// Sysfs names of video nodes that are not cameras.
    static let notCameras = ["codec", "isp", "rpivid", "pispbe", "hevc", "jpeg", "hantro", "unicam-embedded"]
    /// Sysfs names of the Pi's camera receivers, driven through libcamera.
    static let piReceivers = ["unicam", "rp1-cfe"]

    /// Looks at this machine. Needs `gst_init` first when `elements` is `InstalledElements`.
    public static func scan(elements: any ElementRegistry = InstalledElements()) -> MediaInventory {
        var inventory = MediaInventory(elements: elements)
        for node in directoryEntries("/sys/class/video4linux").filter({ $0.hasPrefix("video") }).sorted(by: videoOrder) {
            let name = readSmallFile("/sys/class/video4linux/\(node)/name") ?? "?"
            let lower = name.lowercased()
            let camera = Camera(device: "/dev/\(node)", name: name)
            if piReceivers.contains(where: { lower.hasPrefix($0) }) {
                if inventory.piCameraReceiver == nil { inventory.piCameraReceiver = camera }
            } else if !notCameras.contains(where: { lower.contains($0) }),
                      readSmallFile("/sys/class/video4linux/\(node)/index").map({ $0 == "0" }) ?? true {
                inventory.v4l2Cameras.append(camera)
            }
        }
        let pcm = readSmallFile("/proc/asound/pcm") ?? ""
        inventory.alsaCapture = pcm.contains("capture")
        inventory.alsaPlayback = pcm.contains("playback")
        inventory.soundCards = (readSmallFile("/proc/asound/cards") ?? "").split(separator: "\n")
            .filter { $0.first == " " && $0.contains("]:") }
            .map { String($0.drop(while: { $0 == " " })) }
        inventory.pulseServer = findPulseServer()
        return inventory
    }

    private static func videoOrder(_ a: String, _ b: String) -> Bool {
        (Int(a.dropFirst(5)) ?? 0) < (Int(b.dropFirst(5)) ?? 0)
    }

    private static func findPulseServer() -> String? {
        if let server = getenv("PULSE_SERVER") { return String(cString: server) }
        var candidates: [String] = []
        if let runtime = getenv("XDG_RUNTIME_DIR") { candidates.append(String(cString: runtime) + "/pulse/native") }
        candidates.append("/run/user/\(getuid())/pulse/native")
        candidates.append("/run/pulse/native")
        return candidates.first { access($0, F_OK) == 0 }
    }
}

func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if !name.hasPrefix(".") { names.append(name) }
    }
    return names
}

/// The first 16 KiB of a small text file, trailing newlines dropped; nil when it cannot be read.
func readSmallFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes = [UInt8](repeating: 0, count: 16 * 1024)
    let count = fread(&bytes, 1, bytes.count, file)
    var text = String(decoding: bytes.prefix(count), as: UTF8.self)
    while text.hasSuffix("\n") { text.removeLast() }
    return text
}
