import ArgumentParser
import DoorCore
import Media

// `intercom run`'s options by concern. Each group lists its options in the order `--help` shows them and puts
// what it was given on top of the configuration; `RunCommand` checks the ranges (`validate`).
extension RunCommand {
    /// The built-in server and the signaling server: where calls are signalled and where join links point.
    struct ServerOptions: ParsableArguments {
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

        func apply(to c: inout Configuration) throws {
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
        }
    }

    /// Where the process puts things on this machine: the control socket, the snapshots, the screen.
    struct PlaceOptions: ParsableArguments {
        @Option(help: "Control socket path. (default: $RUNTIME_DIRECTORY/control.sock or /run/intercom/control.sock)")
        var control: String?

        @Option(help: "Directory for PNG snapshots of the screen. (default: /var/lib/intercom/snapshots)")
        var snapshots: String?

        @Option(help: "Where the screen goes: auto (KMS/DRM, else a window, else snapshots), drm, window, snapshot.")
        var display: Configuration.Display.Output?

        func apply(to c: inout Configuration) {
            if let control { c.paths.control = control }
            if let snapshots { c.paths.snapshots = snapshots }
            if let display { c.display.output = display }
        }
    }

    /// The door's name, its room's lifetime and who waits for ANSWER.
    struct DoorOptions: ParsableArguments {
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

        func apply(to c: inout Configuration) {
            if let doorName { c.door.name = doorName }
            if let roomLifetime { c.door.roomLifetimeSeconds = roomLifetime }
            if let answerTimeout { c.door.answerTimeoutSeconds = answerTimeout }
            if let knocksNeedAnswer { c.door.knocksNeedAnswer = knocksNeedAnswer }
            if let autoAcceptProvenCallers { c.door.autoAcceptProvenCallers = autoAcceptProvenCallers }
        }
    }

    /// STUN and TURN servers and how long a call may take to connect.
    struct ICEOptions: ParsableArguments {
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

        /// `--stun-server`, `--turn-server` and their credentials, checked as the `ice:` section is.
        func apply(to c: inout Configuration) throws {
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
    }

    /// Benchmarks and tests only (hidden from `--help`).
    struct BenchmarkOptions: ParsableArguments {
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

        func apply(to media: inout MediaSettings) {
            media.extras.clockStamp = clockStamp
            if coldJoin { media.extras.warmJoin = false }
            if let testPattern { media.video.testPattern = testPattern }
        }
    }
}
