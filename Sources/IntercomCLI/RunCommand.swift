import ArgumentParser
import Buttons
import ConfigFile
import Dispatch
import Glibc
import Door
import DoorCore
import MainLoop
import Media

/// `intercom run`: the device itself. Settings come from the built-in defaults, then `--config FILE`, then
/// the options given here.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the intercom (the default).")

    @Option(help: "Config file (YAML, e.g. /etc/intercom/intercom.yaml); the options below override it.")
    var config: String?

    @Option(help: "Built-in signaling + web server address, HOST:PORT, or 'off' to use --signaling only. (default: 0.0.0.0:8080)")
    var listen: String?

    @Option(help: "Signaling server URL (ws://, wss://). (default: the built-in server)")
    var signaling: String?

    @Option(help: "PeerJS key. (default: peerjs)")
    var key: String?

    @Option(help: "Directory of the web client served by the built-in server.")
    var webRoot: String?

    @Option(help: "Base URL of the web client in join links. (default: http://localhost:8080)")
    var webBase: String?

    @Option(help: "Prefix of the room's peer ID; the 5-digit code follows it. (default: intercom-)")
    var roomPrefix: String?

    @Option(name: .customLong("allowed-origin"),
            help: "Origin of a page elsewhere that may use the built-in server, e.g. https://door.example.org; repeat for more. Adds to signaling.allowed_origins.")
    var allowedOrigins: [String] = []

    @Option(help: "Control socket path. (default: $RUNTIME_DIRECTORY/control.sock or /run/intercom/control.sock)")
    var control: String?

    @Option(help: "Directory for PNG snapshots of the screen. (default: /var/lib/intercom/snapshots)")
    var snapshots: String?

    @Option(help: "Where the screen goes: auto (KMS/DRM, else a window, else snapshots), drm, window, snapshot.")
    var display: Configuration.Display.Output?

    @Option(help: "Name of the door, shown on the idle screen. (default: Front door)")
    var doorName: String?

    @Option(help: "Seconds an unanswered room stays open. (default: 120)")
    var roomLifetime: Int?

    @Option(help: "Seconds a caller waiting for ANSWER waits before it is refused. (default: 30)")
    var answerTimeout: Int?

    @Option(help: "true: a caller with only the room code waits for ANSWER; false: the code is enough. (default: true)")
    var knocksNeedAnswer: Bool?

    @Option(help: "true: a caller that proved the room's secret is answered at once; false: it waits for ANSWER. (default: true)")
    var autoAcceptProvenCallers: Bool?

    @Option(help: "STUN server, stun:HOST[:PORT]; repeat for more. Replaces ice.stun_servers.")
    var stunServer: [String] = []

    @Option(help: "TURN server, turn:HOST[:PORT][?transport=udp|tcp] or turns:…; repeat for more. Replaces ice.turn_servers; needs --turn-secret or --turn-username and --turn-credential.")
    var turnServer: [String] = []

    @Option(help: "coturn's static-auth-secret: the door mints short-lived TURN credentials from it. (Visible in the process list: prefer ice.turn_servers[].shared_secret in the config file.)")
    var turnSecret: String?

    @Option(help: "Fixed TURN username (with --turn-credential).")
    var turnUsername: String?

    @Option(help: "Fixed TURN credential (with --turn-username).")
    var turnCredential: String?

    @Option(help: "Seconds a call may try to connect before it is given up. (default: 20)")
    var iceTimeout: Int?

    @Flag(help: "Log debug lines.")
    var verbose = false

    @Flag(help: ArgumentHelp("Benchmarks: stamp the time into the sent video, read the caller's stamps (events).",
                             visibility: .hidden))
    var clockStamp = false

    @Flag(help: ArgumentHelp("Benchmarks: build each call's pipeline at the offer, not when the room opens "
                             + "(as media.warm_join: false).",
                             visibility: .hidden))
    var coldJoin = false

    @Option(help: ArgumentHelp("Tests: what the test picture shows, ball or snow (noise, as costly as a busy scene).",
                               visibility: .hidden))
    var testPattern: MediaSettings.TestPattern?

    /// 78 (EX_CONFIG, which the unit does not restart) for what only a person can fix — a missing package, a
    /// wrong setting; 1 for what may pass (a port still in use), so systemd tries again.
    static func exitStatus(for error: any Error) -> Int32 {
        if error is ConfigurationError { return ConfigurationError.exitStatus }
        if let media = error as? MediaError, media.code == .missingElement { return ConfigurationError.exitStatus }
        return 1
    }

    static var defaultControlPath: String { DeviceOptions.defaultControlPath }

    func validate() throws {
        if let listen, listen != "off", Configuration.Listen(parsing: listen) == nil {
            throw ValidationError("--listen must be HOST:PORT or 'off', not '\(listen)'")
        }
        if let roomLifetime, !(10...3600).contains(roomLifetime) {
            throw ValidationError("--room-lifetime must be 10…3600 seconds")
        }
        if let answerTimeout, !(5...600).contains(answerTimeout) {
            throw ValidationError("--answer-timeout must be 5…600 seconds")
        }
    }

    /// The file's settings (or the defaults) with the command line's on top.
    func resolvedConfiguration() throws -> Configuration {
        var c = Configuration()
        if let config { c = try ConfigCheck.load(config) }
        if let listen { c.signaling.listen = listen == "off" ? nil : Configuration.Listen(parsing: listen) }
        if let signaling { c.signaling.server = signaling }
        if let key { c.signaling.key = key }
        if let webRoot { c.web.root = webRoot }
        if let webBase { c.web.base = webBase }
        if let roomPrefix { c.signaling.roomPrefix = roomPrefix }
        for origin in allowedOrigins {
            guard let rest = Configuration.stripScheme(origin, ["http://", "https://"]), Configuration.hasHost(rest),
                  !rest.contains("/") else {
                throw ValidationError("--allowed-origin must be an origin such as https://example.org:8443 "
                                      + "(scheme, host, optional port; no path), not '\(origin)'")
            }
            c.signaling.allowedOrigins.append(origin)
        }
        if let control { c.paths.control = control }
        if let snapshots { c.paths.snapshots = snapshots }
        if let doorName { c.door.name = doorName }
        if let display { c.display.output = display }
        if let roomLifetime { c.door.roomLifetimeSeconds = roomLifetime }
        if let answerTimeout { c.door.answerTimeoutSeconds = answerTimeout }
        if let knocksNeedAnswer { c.door.knocksNeedAnswer = knocksNeedAnswer }
        if let autoAcceptProvenCallers { c.door.autoAcceptProvenCallers = autoAcceptProvenCallers }
        try applyICEOptions(&c)
        if verbose { c.log.level = .debug }
        if c.signaling.listen == nil, c.signaling.server == nil {
            throw ValidationError("--listen off needs --signaling URL (no built-in server to use)")
        }
        return c
    }

    /// `--stun-server`, `--turn-server` and their credentials, checked as the `ice:` section is.
    func applyICEOptions(_ c: inout Configuration) throws {
        if !stunServer.isEmpty {
            for url in stunServer where Configuration.iceEndpoint(url, schemes: ["stun:"], transports: []) == nil {
                throw ValidationError("--stun-server must be stun:HOST[:PORT], not '\(url)'")
            }
            c.ice.stunServers = stunServer
        }
        if let iceTimeout {
            guard (5...120).contains(iceTimeout) else { throw ValidationError("--ice-timeout must be 5…120 seconds") }
            c.ice.connectTimeoutSeconds = iceTimeout
        }
        guard !turnServer.isEmpty else {
            if turnSecret != nil || turnUsername != nil || turnCredential != nil {
                throw ValidationError("--turn-secret, --turn-username and --turn-credential need --turn-server")
            }
            return
        }
        let auth: Configuration.TURNServer.Auth
        switch (turnSecret, turnUsername, turnCredential) {
        case (let secret?, nil, nil):
            guard secret.count >= 16, !secret.contains(" ") else {
                throw ValidationError("--turn-secret must be at least 16 characters with no spaces")
            }
            auth = .sharedSecret(secret, lifetimeSeconds: 3600)
        case (nil, let username?, let credential?):
            auth = .fixed(username: username, credential: credential)
        default:
            throw ValidationError("--turn-server needs --turn-secret, or --turn-username with --turn-credential")
        }
        c.ice.turnServers = try turnServer.map { url in
            guard let e = Configuration.iceEndpoint(url, schemes: ["turn:", "turns:"], transports: ["udp", "tcp"]),
                  !(e.scheme == "turns:" && e.transport == "udp") else {
                throw ValidationError("--turn-server must be turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT], not '\(url)'")
            }
            return Configuration.TURNServer(url: url, auth: auth)
        }
    }

    func run() throws {
        MemoryPolicy.limitArenas()
        let configuration = try resolvedConfiguration()
        Log.minimum = Log.Level(configuration.log.level)
        signal(SIGPIPE, SIG_IGN)
        let stateDirectory = getenv("STATE_DIRECTORY").map { String(cString: $0) } ?? configuration.paths.state
        let deviceID = DeviceID.loadOrCreate(stateDirectory: stateDirectory)
        if let deviceID { Log.info("intercom", "device \(deviceID) (state in \(stateDirectory))") }
        let gpio: GPIOButtons.Configuration?
        do { gpio = try HardwareCheck.gpio(configuration) } catch {
            ConfigCheck.report(config.map { error.in(file: $0) } ?? error)
            throw ExitCode(ConfigurationError.exitStatus)
        }
        var options = DeviceOptions(configuration, gpio: gpio)
        options.media.clockStamp = clockStamp
        if coldJoin { options.media.warmJoin = false }
        if let testPattern { options.media.testPattern = testPattern }
        options.deviceID = deviceID
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        let notifier = SystemdNotifier.fromEnvironment()
        GLibLoop.shared.start()
        GLibLoop.shared.post {
            do {
                let device = try Device(options: options) { done.signal() }
                outcome.keep(device)
                if let watchdog = ServiceWatchdog(notifier: notifier) {
                    watchdog.ready(status: "ready: \(options.doorName)")
                    outcome.keep(watchdog)
                }
            } catch {
                Log.error("intercom", "\(error)")
                notifier?.notify("STATUS=failed to start: \(error)")
                outcome.fail(status: Self.exitStatus(for: error))
                done.signal()
            }
        }
        done.wait()
        // OpenSSL's exit handler must not run beside a DTLS key still being made (a door stopped at once).
        DTLSIdentity.waitUntilPrepared()
        if let status = outcome.failure { throw ExitCode(status) }
        notifier?.notify("STOPPING=1")
        // The device stopped its parts in reverse (Lifecycle). What is isolated to the loop is let go on the
        // loop, then the loop ends and this thread joins it.
        GLibLoop.shared.post {
            outcome.release()
            GLibLoop.shared.quit()
        }
        GLibLoop.shared.join()
        let sessions = LiveSessions.current
        Log.info("intercom", "exit: \(sessions) live media session\(sessions == 1 ? "" : "s")")
        // Only for GStreamer's leak tracer (GST_TRACERS=leaks), which reports in gst_deinit; a plain exit
        // needs nothing from it.
        if getenv("GST_TRACERS") != nil { MediaEngine.deinitializeGStreamer() }
    }
}

/// Carries the running device and its watchdog (kept alive) and whether start-up failed, between the GLib and main threads.
final class Outcome: @unchecked Sendable {
    // Written on the GLib thread before `done` is signalled, read on the main thread after: the semaphore
    // orders the accesses.
    private var kept: [AnyObject] = []
    /// The exit status start-up failed with, if it did.
    private(set) var failure: Int32?
    func keep(_ object: AnyObject) { kept.append(object) }
    /// Lets go of the device and the watchdog; called on the loop thread, which they belong to.
    func release() {
        precondition(GLibLoop.shared.isCurrent, "the device is let go on the loop thread")
        kept = []
    }
    func fail(status: Int32) { failure = status }
}

extension Log.Level {
    init(_ level: Configuration.LogSettings.Level) {
        switch level {
        case .debug: self = .debug
        case .info: self = .info
        case .warning: self = .warning
        case .error: self = .error
        }
    }
}

extension Configuration.Display.Output: ExpressibleByArgument {}
extension MediaSettings.TestPattern: ExpressibleByArgument {}
