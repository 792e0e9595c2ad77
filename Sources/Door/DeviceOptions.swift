import Buttons
import Display
import Glibc
import DoorCore
import Media
import Signaling

/// Everything `intercom run` was told, validated: the resolved `Configuration` and the values `Device`
/// reads from it.
public struct DeviceOptions: Sendable {
    public var configuration: Configuration
    public var listen: (host: String, port: Int)?
    /// The built-in server's certificate and key: it speaks HTTPS/WSS.
    public var tls: WebSocketHost.TLSFiles?
    public var signaling: String?
    public var key: String
    public var webRoot: String?
    public var webBase: String
    /// `signaling.allowed_origins`: pages elsewhere that may use the built-in server.
    public var allowedOrigins: [String] = []
    public var roomPrefix: String
    public var controlPath: String
    public var display: DisplayBackend.Configuration
    public var doorName: String
    public var roomLifetimeMillis: Int64
    /// The buttons on GPIO, with the chip found (`HardwareCheck.gpio`); nil: no GPIO buttons.
    public var gpio: GPIOButtons.Configuration?
    public var media: MediaSettings
    /// `<state>/device-id` (DeviceID); nil without a state directory. The home peer ID is derived from it.
    public var deviceID: String?
    /// Where the device keeps what outlives a restart (device ID, pairings): `$STATE_DIRECTORY` or `paths.state`.
    public var stateDirectory: String { getenv("STATE_DIRECTORY").map { String(cString: $0) } ?? configuration.paths.state }

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
        key = c.signaling.key
        webRoot = c.web.root ?? Self.defaultWebRoot()
        webBase = c.web.base
        allowedOrigins = c.signaling.allowedOrigins
        roomPrefix = c.signaling.roomPrefix
        controlPath = c.paths.control ?? Self.defaultControlPath
        display = DisplayBackend.Configuration()
        display.mode = DisplayBackend.Mode(rawValue: c.display.output.rawValue) ?? .auto
        display.connector = c.display.connector
        display.screenMode = c.display.mode
        display.rotation = VideoOutputSink.Rotation(rawValue: c.display.rotation) ?? .none
        display.snapshotDirectory = c.paths.snapshots
        display.snapshotCallFramesPerSecond = c.display.snapshotsPerSecond
        doorName = c.door.name
        roomLifetimeMillis = Int64(c.door.roomLifetimeSeconds) * 1000
        self.gpio = gpio
        media = Self.mediaSettings(c)
    }

    /// The media section; size and bitrate only when the file sets them, else the encoder's defaults.
    public static func mediaSettings(_ c: Configuration) -> MediaSettings {
        var m = MediaSettings()
        m.camera = MediaSettings.Camera(rawValue: c.media.camera.rawValue) ?? .auto
        m.cameraDevice = c.media.cameraDevice
        m.microphone = c.media.microphone
        m.speaker = c.media.speaker
        if c.line(of: "media.resolution") != nil { (m.width, m.height) = (c.media.width, c.media.height) }
        if c.line(of: "media.bitrate_kbps") != nil { m.videoBitrateKbps = c.media.bitrateKbps }
        m.framerate = c.media.framerate
        m.encoder = EncoderChoice(rawValue: c.media.encoder.rawValue)
        m.echoCancellation = c.media.echoCancellation
        m.lostAfterMillis = Int64(c.media.lostAfterSeconds) * 1000
        m.warmJoin = c.media.warmJoin
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
