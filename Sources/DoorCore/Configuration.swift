/// Everything the door is configured with: the config file's sections, typed and checked. Built from a
/// `ConfigNode` (any file format's parse tree); the defaults are what `intercom run` uses with no file, and
/// `config/intercom.yaml` documents each key. Values that are wrong on paper (unknown keys, wrong types,
/// out of range, two buttons on one line, a resolution H.264 level 3.1 cannot carry) fail here with the key
/// and line; what only the hardware can tell (does GPIO line 17 exist?) is checked at start by the executable,
/// which names the key through `line(of:)`.
public struct Configuration: Sendable, Equatable {
    public var door = Door()
    public var web = Web()
    public var signaling = Signaling()
    public var paths = Paths()
    public var gpio = GPIO()
    public var display = Display()
    public var media = Media()
    public var log = LogSettings()
    public var notify = Notify()
    public var ice = ICE()
    /// The visit log and its clips (`Configuration+Visits.swift`, docs/visits.md).
    public var visits = VisitSettings()
    /// Line of every key the file set, by dotted path; empty for the built-in defaults.
    public var lines: [String: Int] = [:]

    public init() {}

    public struct Door: Sendable, Equatable {
        /// Shown on the idle screen.
        public var name = "Front door"
        /// How long an unanswered room stays open.
        public var roomLifetimeSeconds = 120
        /// How long a caller waiting for ANSWER (a knock or an incoming call) waits before it is refused, and how
        /// long a call the door makes waits for its answer.
        public var answerTimeoutSeconds = 30
        /// A caller that did not prove the room's secret must be let in with ANSWER (`CallStateMachine`).
        public var knocksNeedAnswer = true
        /// A caller that proved the room's secret is answered without a button press.
        public var autoAcceptProvenCallers = true
        /// How long the pairing screen (long press, `ctl pair`) stays open for a phone to scan it.
        public var pairingWindowSeconds = 120
        public init() {}
    }

    public struct Web: Sendable, Equatable {
        /// Directory of the web client served by the built-in server; nil: the checkout's or the installed one.
        public var root: String?
        /// Start of the join links (what the QR encodes), `http(s)://host[:port][/path]`.
        public var base = "http://localhost:8080"
        public init() {}
    }

    public struct Listen: Sendable, Equatable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) { self.host = host; self.port = port }

        /// `HOST:PORT` or `:PORT` (all addresses); nil when it is neither.
        public init?(parsing text: String) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                  (1...65535).contains(port) else { return nil }
            let host = String(text[..<colon])
            guard !host.contains(" ") else { return nil }
            self.init(host: host.isEmpty ? "0.0.0.0" : host, port: port)
        }
    }

    public struct Signaling: Sendable, Equatable {
        /// The built-in PeerJS + web server's address; nil when it is off (then `server` is required).
        public var listen: Listen? = Listen(host: "0.0.0.0", port: 8080)
        /// An external PeerJS server, `ws[s]://host[:port]`; nil: the built-in one.
        public var server: String?
        /// The PeerJS server's `path` option, used with `server`.
        public var path = "/"
        public var key = "peerjs"
        /// The room's peer ID is this plus the 5-digit code (the page's `config.json` must agree).
        public var roomPrefix = "intercom-"
        /// PEM certificate (chain) and private key: the built-in server then speaks HTTPS and WSS (phones give
        /// camera and microphone only to secure pages). Both or neither.
        public var tlsCertificate: String?
        public var tlsPrivateKey: String?
        /// Page origins (`https://host[:port]`) besides the door's own (`web.base`) whose pages may open the
        /// built-in server's WebSocket; a browser says where a page came from, so a page elsewhere cannot
        /// flood or probe the door from a visitor's phone.
        public var allowedOrigins: [String] = []
        public init() {}
    }

    public struct Paths: Sendable, Equatable {
        /// What must survive a reboot (the device ID); systemd's `StateDirectory=`.
        public var state = "/var/lib/intercom"
        /// PNG of every screen change when there is no real screen (or always, for `display.output: snapshot`).
        public var snapshots = "/var/lib/intercom/snapshots"
        /// The control socket; nil: `$RUNTIME_DIRECTORY/control.sock`, else `/run/intercom/control.sock`.
        public var control: String?
        public init() {}
    }

    public struct GPIOLine: Sendable, Equatable {
        /// Line offset on the chip; on a Raspberry Pi header chip, the BCM GPIO number.
        public var offset: Int
        public var activeLow = true
        public var pullUp = true
        public init(offset: Int, activeLow: Bool = true, pullUp: Bool = true) {
            self.offset = offset
            self.activeLow = activeLow
            self.pullUp = pullUp
        }
    }

    public struct GPIO: Sendable, Equatable {
        /// Chip label (`pinctrl-bcm2711`), name (`gpiochip0`), path, or `auto` (the Raspberry Pi header chip).
        public var chip = "auto"
        /// No buttons: GPIO is not used (the terminal and the control socket still press them).
        public var buttons: [Button: GPIOLine] = [:]
        public var debounceMillis = 30
        public var longPressMillis = 1500
        public init() {}
    }

    public struct Display: Sendable, Equatable {
        public enum Output: String, Sendable, CaseIterable {
            /// A KMS/DRM screen when one is connected, else a desktop window, else PNG snapshots.
            case auto
            case drm
            /// A window on an X11 or Wayland desktop (`make run` on a laptop).
            case window
            case snapshot
        }
        public var output = Output.auto
        /// DRM connector name (`HDMI-A-1`, `DSI-1`); nil: the first connected one.
        public var connector: String?
        /// Degrees the picture is turned clockwise for a panel mounted on its side or upside down: 0, 90, 180 or 270
        /// (a panel turned a quarter counterclockwise, seen from the front, needs 90).
        public var rotation = 0
        /// The screen mode: the connector's preferred one, or one of its modes by size.
        public enum Mode: Sendable, Equatable {
            case auto
            case size(width: Int, height: Int)
        }
        public var mode = Mode.auto
        /// PNG snapshots a second during a call (0: only when the screen changes).
        public var snapshotsPerSecond = 1
        public init() {}
    }

    public struct Media: Sendable, Equatable {
        public enum Camera: String, Sendable, CaseIterable {
            case auto, libcamera, v4l2, test
        }
        public enum Encoder: String, Sendable, CaseIterable {
            case auto, v4l2h264enc, x264enc, openh264enc
        }
        public var camera = Camera.auto
        /// `/dev/videoN` for `v4l2`; nil: the first capture device.
        public var cameraDevice: String?
        /// `auto`, `test` (a tone), `off`, or an ALSA device such as `hw:1,0` or `plughw:CARD=Device`.
        public var microphone = "auto"
        /// `auto`, `off`, or an ALSA device.
        public var speaker = "auto"
        public var width = 640
        public var height = 480
        public var framerate = 30
        public var bitrateKbps = 1500
        public var encoder = Encoder.auto
        public var echoCancellation = true
        /// Seconds without a packet from a connected caller after which the call ends as lost (docs/liveness.md).
        public var lostAfterSeconds = 5
        /// Start the next call's pipeline (camera, microphone) when a room opens, for a quicker join.
        public var warmJoin = true
        public init() {}
    }

    public struct LogSettings: Sendable, Equatable {
        public enum Level: String, Sendable, CaseIterable {
            case debug, info, warning, error
        }
        public var level = Level.info
        public init() {}
    }

    /// The line a dotted key was set on, if the file set it.
    public func line(of key: String) -> Int? { lines[key] }

    /// An error about a key this configuration came from, with its line when the file set it.
    public func error(_ code: ConfigurationError.Code, key: String, _ message: String) -> ConfigurationError {
        var probe = key
        var line = lines[probe]
        while line == nil, let dot = probe.lastIndex(of: ".") {
            probe = String(probe[..<dot])
            line = lines[probe]
        }
        return ConfigurationError(code, key: key, line: line, message)
    }
}

// MARK: - Reading a document

extension Configuration {
    static let sections = ["door", "web", "signaling", "paths", "gpio", "display", "media", "log", "notify", "ice", "visits"]

    /// Types and checks a whole document. The first problem found is thrown.
    public init(document: ConfigNode) throws(ConfigurationError) {
        self.init()
        let top = try ConfigSection(document, path: "", keys: Self.sections)
        if let s = try top.section("door", keys: ["name", "room_lifetime", "answer_timeout", "knocks_need_answer",
                                                  "auto_accept_proven_callers", "pairing_window"]) { try readDoor(s) }
        if let s = try top.section("web", keys: ["root", "base"]) { try readWeb(s) }
        if let s = try top.section("signaling", keys: ["listen", "server", "path", "key", "room_prefix",
                                                              "tls_certificate", "tls_private_key", "allowed_origins"]) {
            try readSignaling(s)
        }
        if let s = try top.section("paths", keys: ["state", "snapshots", "control"]) { try readPaths(s) }
        if let s = try top.section("gpio", keys: ["chip", "debounce_ms", "long_press_ms", "buttons"]) { try readGPIO(s) }
        if let s = try top.section("display", keys: ["output", "connector", "mode", "rotation", "snapshots_per_second"]) { try readDisplay(s) }
        if let s = try top.section("media", keys: ["camera", "camera_device", "microphone", "speaker", "resolution",
                                                   "framerate", "bitrate_kbps", "encoder", "echo_cancellation",
                                                   "lost_after_seconds", "warm_join"]) {
            try readMedia(s)
        }
        if let s = try top.section("log", keys: ["level"]) {
            if let level = try s.choice("level", LogSettings.Level.self) { log.level = level }
        }
        if let s = try top.section("notify", keys: Self.notifyKeys) { try readNotify(s) }
        if let s = try top.section("ice", keys: Self.iceKeys) { try readICE(s) }
        if let s = try top.section("visits", keys: VisitSettings.keys) { try readVisits(s) }
        Self.collectLines(document, path: "", into: &lines)
    }

    private mutating func readDoor(_ s: ConfigSection) throws(ConfigurationError) {
        if let name = try s.string("name") {
            guard !name.trimmingSpaces.isEmpty, name.count <= 40 else {
                throw s.fail("name", "must be 1…40 characters (it is drawn on the idle screen)")
            }
            door.name = name
        }
        if let seconds = try s.int("room_lifetime", in: 10...3600, unit: "seconds") { door.roomLifetimeSeconds = seconds }
        if let seconds = try s.int("answer_timeout", in: 5...600, unit: "seconds") { door.answerTimeoutSeconds = seconds }
        if let value = try s.bool("knocks_need_answer") { door.knocksNeedAnswer = value }
        if let value = try s.bool("auto_accept_proven_callers") { door.autoAcceptProvenCallers = value }
        if let seconds = try s.int("pairing_window", in: 10...900, unit: "seconds") { door.pairingWindowSeconds = seconds }
    }

    private mutating func readWeb(_ s: ConfigSection) throws(ConfigurationError) {
        if let root = try s.string("root") {
            guard root.hasPrefix("/") else { throw s.fail("root", "must be an absolute path, not '\(root)'") }
            web.root = root
        }
        if let base = try s.string("base") {
            guard let rest = Self.stripScheme(base, ["http://", "https://"]), Self.hasHost(rest) else {
                throw s.fail("base", "must be an http:// or https:// URL with a host, not '\(base)'")
            }
            guard !base.contains("?"), !base.contains("#") else {
                throw s.fail("base", "must not contain '?' or '#': the room is added as ?room=CODE")
            }
            web.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        }
    }

    private mutating func readSignaling(_ s: ConfigSection) throws(ConfigurationError) {
        if let text = try s.string("listen") {
            if text == "off" {
                signaling.listen = nil
            } else if let listen = Listen(parsing: text) {
                signaling.listen = listen
            } else {
                throw s.fail("listen", "must be HOST:PORT (port 1…65535) or off, not '\(text)'")
            }
        }
        if let server = try s.string("server") {
            guard let rest = Self.stripScheme(server, ["ws://", "wss://", "http://", "https://"]), Self.hasHost(rest) else {
                throw s.fail("server", "must be a ws:// or wss:// URL with a host, not '\(server)'")
            }
            signaling.server = server
        }
        if let path = try s.string("path") {
            guard path.hasPrefix("/"), !path.contains(" "), !path.contains("?") else {
                throw s.fail("path", "must start with / and have no spaces or '?', not '\(path)'")
            }
            if let server = signaling.server, let rest = Self.stripScheme(server, ["ws://", "wss://", "http://", "https://"]),
               let slash = rest.firstIndex(of: "/"), rest[slash...] != "/" {
                throw s.fail("path", "the server URL already has a path (\(rest[slash...])); give it in one place")
            }
            signaling.path = path
        }
        if let key = try s.string("key") {
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw s.fail("key", "must be letters, digits, - or _, not '\(key)'")
            }
            signaling.key = key
        }
        if let prefix = try s.stringAllowingEmpty("room_prefix") {
            guard Self.isPeerIDPrefix(prefix) else {
                throw s.fail("room_prefix", "'\(prefix)' + a code is not a valid PeerJS ID: use letters and digits, "
                             + "with single - _ or space between them (e.g. intercom-)")
            }
            signaling.roomPrefix = prefix
        }
        if signaling.listen == nil, signaling.server == nil {
            throw s.fail("listen", "is off, so signaling.server must name a PeerJS server")
        }
        if let node = s.node("allowed_origins") {
            guard case .sequence(let items) = node.value else {
                throw s.fail("allowed_origins", "must be a list of origins (- https://host[:port]), not \(node.kindName)")
            }
            for item in items {
                guard case .scalar(let text, _) = item.value, let rest = Self.stripScheme(text, ["http://", "https://"]),
                      Self.hasHost(rest), !rest.contains("/") else {
                    throw s.fail("allowed_origins", "each entry must be an origin such as https://example.org:8443 "
                                 + "(scheme, host, optional port; no path)")
                }
                signaling.allowedOrigins.append(text)
            }
        }
        for name in ["tls_certificate", "tls_private_key"] {
            guard let path = try s.string(name) else { continue }
            guard path.hasPrefix("/") else { throw s.fail(name, "must be an absolute path, not '\(path)'") }
            if name == "tls_certificate" { signaling.tlsCertificate = path } else { signaling.tlsPrivateKey = path }
        }
        switch (signaling.tlsCertificate, signaling.tlsPrivateKey) {
        case (.some, nil): throw s.fail("tls_certificate", "needs tls_private_key too (the certificate's key, PEM)")
        case (nil, .some): throw s.fail("tls_private_key", "needs tls_certificate too (the PEM certificate chain)")
        case (.some, .some) where signaling.listen == nil:
            throw s.fail("tls_certificate", "is for the built-in server, but listen is off")
        default: break
        }
    }

    private mutating func readPaths(_ s: ConfigSection) throws(ConfigurationError) {
        for name in ["state", "snapshots", "control"] {
            guard let path = try s.string(name) else { continue }
            guard path.hasPrefix("/") else { throw s.fail(name, "must be an absolute path, not '\(path)'") }
            let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            switch name {
            case "state": paths.state = trimmed
            case "snapshots": paths.snapshots = trimmed
            default:
                guard trimmed.utf8.count < 108 else { throw s.fail(name, "is longer than a Unix socket path may be (107 bytes)") }
                paths.control = trimmed
            }
        }
    }

    private mutating func readGPIO(_ s: ConfigSection) throws(ConfigurationError) {
        if let chip = try s.string("chip") {
            guard !chip.isEmpty, !chip.contains(" ") else { throw s.fail("chip", "must be a chip label, name or path") }
            gpio.chip = chip
        }
        if let ms = try s.int("debounce_ms", in: 1...500, unit: "ms") { gpio.debounceMillis = ms }
        if let ms = try s.int("long_press_ms", in: 300...10_000, unit: "ms") { gpio.longPressMillis = ms }
        guard gpio.longPressMillis > gpio.debounceMillis else {
            throw s.fail("long_press_ms", "must be longer than debounce_ms")
        }
        guard let buttons = try s.section("buttons", keys: Button.allCases.map(\.rawValue)) else { return }
        var byOffset: [Int: Button] = [:]
        for button in Button.allCases {
            guard let node = buttons.node(button.rawValue) else { continue }
            let line: GPIOLine
            if case .scalar = node.value {
                // The short form: `doorbell: 17`.
                guard let offset = try buttons.int(button.rawValue, in: 0...511) else { continue }
                line = GPIOLine(offset: offset)
            } else {
                let one = try ConfigSection(node, path: buttons.key(button.rawValue), keys: ["line", "active_low", "pull_up"])
                guard let offset = try one.int("line", in: 0...511) else {
                    throw ConfigurationError(.badValue, key: one.key("line"), line: buttons.line(button.rawValue),
                                             "is required: the GPIO line (BCM number) the \(button.rawValue) button is on")
                }
                line = GPIOLine(offset: offset, activeLow: try one.bool("active_low") ?? true,
                                pullUp: try one.bool("pull_up") ?? true)
            }
            if let other = byOffset[line.offset] {
                throw ConfigurationError(.badValue, key: buttons.key(button.rawValue), line: buttons.line(button.rawValue),
                                         "line \(line.offset) is already the \(other.rawValue) button's")
            }
            byOffset[line.offset] = button
            gpio.buttons[button] = line
        }
    }

    private mutating func readDisplay(_ s: ConfigSection) throws(ConfigurationError) {
        if let output = try s.choice("output", Display.Output.self) { display.output = output }
        if let connector = try s.string("connector") {
            guard !connector.isEmpty, connector.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw s.fail("connector", "must be a DRM connector name such as HDMI-A-1 or DSI-1, not '\(connector)'")
            }
            display.connector = connector
        }
        if let text = try s.string("mode"), text != "auto" {
            let parts = text.split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) else {
                throw s.fail("mode", "must be auto or WIDTHxHEIGHT such as 1280x720, not '\(text)'")
            }
            guard (320...7680).contains(width), (200...4320).contains(height) else {
                throw s.fail("mode", "\(text): width must be 320…7680 and height 200…4320")
            }
            display.mode = .size(width: width, height: height)
        }
        if let rotation = try s.int("rotation", in: 0...270, unit: "degrees") {
            guard rotation % 90 == 0 else { throw s.fail("rotation", "must be 0, 90, 180 or 270, not \(rotation)") }
            display.rotation = rotation
        }
        if let rate = try s.int("snapshots_per_second", in: 0...30, unit: "per second") {
            display.snapshotsPerSecond = rate
        }
    }

    private mutating func readMedia(_ s: ConfigSection) throws(ConfigurationError) {
        if let camera = try s.choice("camera", Media.Camera.self) { media.camera = camera }
        if let device = try s.string("camera_device") {
            guard device.hasPrefix("/dev/") else { throw s.fail("camera_device", "must be a /dev/video* path, not '\(device)'") }
            media.cameraDevice = device
        }
        for name in ["microphone", "speaker"] {
            guard let value = try s.string(name) else { continue }
            guard !value.isEmpty, !value.contains(" "), !value.contains("!") else {
                throw s.fail(name, "must be auto, off, test or an ALSA device name such as hw:1,0")
            }
            guard name == "microphone" || value != "test" else { throw s.fail(name, "must be auto, off or an ALSA device") }
            if name == "microphone" { media.microphone = value } else { media.speaker = value }
        }
        if let framerate = try s.int("framerate", in: 5...60, unit: "frames per second") { media.framerate = framerate }
        if let text = try s.string("resolution") {
            let parts = text.split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) else {
                throw s.fail("resolution", "must be WIDTHxHEIGHT such as 640x480, not '\(text)'")
            }
            guard (160...1920).contains(width), (120...1080).contains(height), width % 2 == 0, height % 2 == 0 else {
                throw s.fail("resolution", "\(text): width must be an even 160…1920 and height an even 120…1080")
            }
            media.width = width
            media.height = height
        }
        // Browsers offer H.264 as profile-level-id 42e01f: level 3.1 caps a frame at 3600 macroblocks and a
        // second at 108000 (1280x720 at 30 fps). A bigger picture would be refused or dropped by the phone.
        let macroblocks = ((media.width + 15) / 16) * ((media.height + 15) / 16)
        if macroblocks > 3600 || macroblocks * media.framerate > 108_000 {
            let key = s.node("resolution") != nil || s.node("framerate") == nil ? "resolution" : "framerate"
            throw s.fail(key, "\(media.width)x\(media.height) at \(media.framerate) fps is more than H.264 level 3.1 "
                         + "(what browsers offer) carries: at most 1280x720 at 30 fps")
        }
        if let kbps = try s.int("bitrate_kbps", in: 100...20_000, unit: "kbit/s") { media.bitrateKbps = kbps }
        if let encoder = try s.choice("encoder", Media.Encoder.self) { media.encoder = encoder }
        if let on = try s.bool("echo_cancellation") { media.echoCancellation = on }
        // Below 3 s a watch-only caller (RTCP every 0.5–1.5 s) could be taken for gone; above a minute the door
        // stays busy for a visitor who left long ago.
        if let seconds = try s.int("lost_after_seconds", in: 3...60, unit: "seconds") { media.lostAfterSeconds = seconds }
        if let on = try s.bool("warm_join") { media.warmJoin = on }
        if media.camera != .v4l2, media.cameraDevice != nil {
            throw s.fail("camera_device", "is only used with camera: v4l2 (camera is \(media.camera.rawValue))")
        }
    }

    // MARK: - Helpers

    static func collectLines(_ node: ConfigNode, path: String, into lines: inout [String: Int]) {
        guard case .mapping(let entries) = node.value else { return }
        for entry in entries {
            let key = ConfigSection.join(path, entry.key)
            if lines[key] == nil { lines[key] = entry.line }
            collectLines(entry.value, path: key, into: &lines)
        }
    }

    public static func stripScheme(_ url: String, _ schemes: [String]) -> Substring? {
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }) else { return nil }
        return url.dropFirst(scheme.count)
    }

    public static func hasHost(_ rest: Substring) -> Bool {
        let authority = rest.prefix { $0 != "/" }
        return !authority.isEmpty && !authority.hasPrefix(":") && !authority.contains(" ")
    }

    /// PeerJS IDs match `^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$`; the code (digits) follows the prefix.
    static func isPeerIDPrefix(_ prefix: String) -> Bool {
        var previousWasSeparator = true
        for character in prefix {
            let separator = character == "-" || character == "_" || character == " "
            if separator {
                if previousWasSeparator { return false }
            } else if !(character.isASCII && (character.isLetter || character.isNumber)) {
                return false
            }
            previousWasSeparator = separator
        }
        return true
    }
}

extension String {
    var trimmingSpaces: Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
        return self[start..<max(start, end)]
    }
}
