import ArgumentParser
import Signaling

// `intercom signaling-server`'s options: the official PeerJS server's (same names and defaults), then the
// per-socket budget it does not have. `SignalingServerCommand` checks their ranges (`validate`).
extension SignalingServerCommand {
    /// The official `peerjs` server's options.
    struct PeerServerOptions: ParsableArguments {
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

        /// The server's settings from these options (the budget comes from `SocketBudgetOptions`).
        func settings() -> PeerServer.Settings {
            var settings = PeerServer.Settings()
            settings.path = path
            settings.allowDiscovery = allowDiscovery
            settings.core.key = key
            settings.core.aliveTimeoutMillis = Int64(aliveTimeout)
            settings.core.expireTimeoutMillis = Int64(expireTimeout)
            settings.core.concurrentLimit = concurrentLimit
            settings.allowedOrigins = allowedOrigins.isEmpty ? nil : allowedOrigins
            return settings
        }

        /// `--sslcert` with `--sslkey`: the listener speaks HTTPS/WSS.
        func tlsFiles() -> WebSocketHost.TLSFiles? {
            sslCert.flatMap { certificate in sslKey.map { WebSocketHost.TLSFiles(certificate: certificate, privateKey: $0) } }
        }

        /// For the start-up log line.
        var summary: String {
            "path \(path), key \(key), alive_timeout \(aliveTimeout) ms, expire_timeout \(expireTimeout) ms, "
                + "concurrent_limit \(concurrentLimit), discovery \(allowDiscovery ? "on" : "off")"
        }
    }

    /// How much one WebSocket may send, as the door's built-in server allows.
    struct SocketBudgetOptions: ParsableArguments {
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

        /// The four rates, for the range check.
        var figures: [Double] { [framesPerSecond, frameBurst, kibPerSecond, kibBurst] }

        /// nil with `--no-budget`.
        func budget() -> PeerServer.SocketBudget? {
            guard !noBudget else { return nil }
            var budget = PeerServer.SocketBudget()
            budget.framesPerSecond = framesPerSecond
            budget.frameBurst = frameBurst
            budget.bytesPerSecond = kibPerSecond * 1024
            budget.byteBurst = kibBurst * 1024
            return budget
        }

        /// For the start-up log line.
        var summary: String {
            noBudget ? "off" : "\(framesPerSecond) frames/s (burst \(frameBurst)), \(kibPerSecond) KiB/s (burst \(kibBurst)) per socket"
        }
    }
}
