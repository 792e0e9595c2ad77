import Buttons
import Display
import Glibc
import DoorCore
import Media
import Signaling

/// Everything `intercom run` was told, validated: the resolved `Configuration` and the values `Device`
/// reads from it. What the configuration says as it is (the key, the door's name, …) is read from it, not
/// copied; what is stored here is resolved (defaults found on this machine) or set apart from the file.
public struct DeviceOptions: Sendable {
    public var configuration: Configuration
    public var listen: (host: String, port: Int)?
    /// The built-in server's certificate and key: it speaks HTTPS/WSS.
    public var tls: WebSocketHost.TLSFiles?
    /// The signaling server's URL (with `signaling.path`); nil: the built-in server.
    public var signaling: String?
    public var webRoot: String?
    public var controlPath: String
    public var display: DisplayBackend.Configuration
    /// The buttons on GPIO, with the chip found (`HardwareCheck.gpio`); nil: no GPIO buttons.
    public var gpio: GPIOButtons.Configuration?
    public var media: MediaSettings
    /// `<state>/device-id` (DeviceID); nil without a state directory. The home peer ID is derived from it.
    public var deviceID: String?

    /// Where the device keeps what outlives a restart (device ID, pairings): `$STATE_DIRECTORY` or `paths.state`.
    public var stateDirectory: String { getenv("STATE_DIRECTORY").map { String(cString: $0) } ?? configuration.paths.state }
    public var key: String {
        get { configuration.signaling.key }
        set { configuration.signaling.key = newValue }
    }
    public var webBase: String {
        get { configuration.web.base }
        set { configuration.web.base = newValue }
    }
    /// `signaling.allowed_origins`: pages elsewhere that may use the built-in server.
    public var allowedOrigins: [String] {
        get { configuration.signaling.allowedOrigins }
        set { configuration.signaling.allowedOrigins = newValue }
    }
    public var roomPrefix: String {
        get { configuration.signaling.roomPrefix }
        set { configuration.signaling.roomPrefix = newValue }
    }
    public var doorName: String {
        get { configuration.door.name }
        set { configuration.door.name = newValue }
    }
    public var roomLifetimeMillis: Int64 { Int64(configuration.door.roomLifetimeSeconds) * 1000 }

    public init(_ c: Configuration, gpio: GPIOButtons.Configuration? = nil) {
        configuration = c
        listen = c.signaling.listen.map { ($0.host, $0.port) }
        if let certificate = c.signaling.tlsCertificate, let key = c.signaling.tlsPrivateKey {
            tls = WebSocketHost.TLSFiles(certificate: certificate, privateKey: key)
        }
        signaling = c.signaling.server.map { server in
            // The PeerJS path option goes after the host when the URL has no path of its own.
            c.signaling.path == "/" ? server : server.trimmingSuffix("/") + c.signaling.path
        }
        webRoot = c.web.root ?? Self.defaultWebRoot()
        controlPath = c.paths.control ?? Self.defaultControlPath
        display = DisplayBackend.Configuration()
        display.mode = DisplayBackend.Mode(rawValue: c.display.output.rawValue) ?? .auto
        display.connector = c.display.connector
        display.screenMode = c.display.mode
        display.rotation = VideoOutputSink.Rotation(rawValue: c.display.rotation) ?? .none
        display.snapshotDirectory = c.paths.snapshots
        display.snapshotCallFramesPerSecond = c.display.snapshotsPerSecond
        self.gpio = gpio
        media = Self.mediaSettings(c)
    }

    /// The media section; size and bitrate only when the file sets them, else the encoder's defaults.
    public static func mediaSettings(_ c: Configuration) -> MediaSettings {
        var m = MediaSettings()
        m.video.camera = MediaSettings.Camera(rawValue: c.media.camera.rawValue) ?? .auto
        m.video.cameraDevice = c.media.cameraDevice
        m.audio.microphone = c.media.microphone
        m.audio.speaker = c.media.speaker
        if c.line(of: "media.resolution") != nil { (m.video.width, m.video.height) = (c.media.width, c.media.height) }
        if c.line(of: "media.bitrate_kbps") != nil { m.video.bitrateKbps = c.media.bitrateKbps }
        m.video.framerate = c.media.framerate
        m.video.encoder = EncoderChoice(rawValue: c.media.encoder.rawValue)
        m.audio.echoCancellation = c.media.echoCancellation
        m.receiving.lostAfterMillis = Int64(c.media.lostAfterSeconds) * 1000
        m.extras.warmJoin = c.media.warmJoin
        return m
    }

    /// The control socket when the config names none: in systemd's runtime directory if there is one.
    public static var defaultControlPath: String {
        if let dir = getenv("RUNTIME_DIRECTORY") { return String(cString: dir) + "/control.sock" }
        return "/run/intercom/control.sock"
    }

    /// The checkout's web client when run from the source tree, else the installed one.
    public static func defaultWebRoot() -> String? {
        for candidate in ["rootfs-overlay/usr/share/intercom/web", "/usr/share/intercom/web"]
        where access(candidate + "/index.html", R_OK) == 0 {
            return candidate
        }
        return nil
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
