import ArgumentParser
import Dispatch
import Glibc
import DoorCore
import MainLoop
import Signaling

/// `intercom signaling-server`: the built-in PeerJS server alone, a drop-in for the official `peerjs` server
/// on a LAN. Option names and defaults are the official CLI's (docs/signaling.md); times in ms.
struct SignalingServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signaling-server",
        abstract: "Run a PeerJS-compatible signaling server (no door, no media).")

    @Option(name: [.short, .long], help: "Port to listen on.")
    var port = 9000

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(name: [.short, .long], help: "PeerJS key clients must present.")
    var key = "peerjs"

    @Option(help: "Path the API is served under: WebSocket at {path}peerjs, HTTP at {path}{key}/id.")
    var path = "/"

    @Option(name: .customLong("alive_timeout"), help: "Drop a client whose last HEARTBEAT is older than this (ms).")
    var aliveTimeout = 60_000

    @Option(name: [.customShort("t"), .customLong("expire_timeout")],
            help: "Keep messages for an absent peer this long, then EXPIRE (ms).")
    var expireTimeout = 5_000

    @Option(name: [.customShort("c"), .customLong("concurrent_limit")], help: "Most IDs registered at once.")
    var concurrentLimit = 5_000

    @Option(name: .customLong("sslkey"), help: "PEM private key: serve HTTPS/WSS (with --sslcert).")
    var sslKey: String?

    @Option(name: .customLong("sslcert"), help: "PEM certificate chain: serve HTTPS/WSS (with --sslkey).")
    var sslCert: String?

    @Flag(name: .customLong("allow_discovery"), help: "Answer GET {path}{key}/peers with the registered IDs.")
    var allowDiscovery = false

    @Option(name: .customLong("allowed-origin"),
            help: "Take WebSocket upgrades only from pages at this origin (repeatable; default: any origin).")
    var allowedOrigins: [String] = []

    @Option(name: .customLong("frames-per-second"),
            help: "Frames one WebSocket may send per second, on average (its budget; over it, it is closed).")
    var framesPerSecond = 50.0

    @Option(name: .customLong("frame-burst"), help: "Frames one WebSocket may send at once, above the average.")
    var frameBurst = 200.0

    @Option(name: .customLong("kib-per-second"), help: "KiB one WebSocket may send per second, on average.")
    var kibPerSecond = 128.0

    @Option(name: .customLong("kib-burst"), help: "KiB one WebSocket may send at once, above the average.")
    var kibBurst = 512.0

    @Flag(name: .customLong("no-budget"), help: "No per-socket budget (as the official server).")
    var noBudget = false

    @Flag(help: "Log debug lines.")
    var verbose = false

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1…65535") }
        guard aliveTimeout >= 100, expireTimeout >= 100 else {
            throw ValidationError("--alive_timeout and --expire_timeout must be at least 100 ms")
        }
        guard concurrentLimit >= 1 else { throw ValidationError("--concurrent_limit must be at least 1") }
        guard !key.isEmpty else { throw ValidationError("--key must not be empty") }
        guard (sslKey == nil) == (sslCert == nil) else { throw ValidationError("--sslkey and --sslcert go together") }
        guard [framesPerSecond, frameBurst, kibPerSecond, kibBurst].allSatisfy({ $0.isFinite && $0 >= 1 }) else {
            throw ValidationError("--frames-per-second, --frame-burst, --kib-per-second and --kib-burst must be at least 1")
        }
    }

    func run() throws {
        Log.minimum = verbose ? .debug : .info
        signal(SIGPIPE, SIG_IGN)
        var settings = PeerServer.Settings()
        settings.path = path
        settings.allowDiscovery = allowDiscovery
        settings.core.key = key
        settings.core.aliveTimeoutMillis = Int64(aliveTimeout)
        settings.core.expireTimeoutMillis = Int64(expireTimeout)
        settings.core.concurrentLimit = concurrentLimit
        settings.allowedOrigins = allowedOrigins.isEmpty ? nil : allowedOrigins
        // The same per-socket budget as the door's built-in server, so one client cannot take the loop's time.
        if !noBudget {
            var budget = PeerServer.SocketBudget()
            budget.framesPerSecond = framesPerSecond
            budget.frameBurst = frameBurst
            budget.bytesPerSecond = kibPerSecond * 1024
            budget.byteBurst = kibBurst * 1024
            settings.budget = budget
        }
        let listen = (host: host, port: port)
        let tls = sslCert.flatMap { certificate in
            sslKey.map { WebSocketHost.TLSFiles(certificate: certificate, privateKey: $0) }
        }
        let failed = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        GLibLoop.shared.start()
        GLibLoop.shared.post {
            do {
                let webSockets = try WebSocketHost(listen: listen, tls: tls)
                outcome.keep(webSockets)
                outcome.keep(PeerServer(host: webSockets, settings: settings))
                Log.info("peerserver", "PeerJS server on \(listen.host):\(listen.port), path \(settings.path), "
                         + "key \(settings.core.key), alive_timeout \(aliveTimeout) ms, "
                         + "expire_timeout \(expireTimeout) ms, concurrent_limit \(concurrentLimit), "
                         + "discovery \(allowDiscovery ? "on" : "off")" + (tls == nil ? "" : ", TLS") + ", budget "
                         + (noBudget ? "off" : "\(framesPerSecond) frames/s (burst \(frameBurst)), "
                            + "\(kibPerSecond) KiB/s (burst \(kibBurst)) per socket"))
            } catch {
                Log.error("peerserver", "\(error)")
                outcome.fail(status: 78)
                failed.signal()
            }
        }
        // Runs until a signal ends the process; nothing needs saving.
        failed.wait()
        if let status = outcome.failure { throw ExitCode(status) }
    }
}
