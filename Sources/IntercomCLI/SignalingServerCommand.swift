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

    // The official server's options, then the per-socket budget (SignalingServerOptions.swift).
    @OptionGroup var server: PeerServerOptions
    @OptionGroup var budget: SocketBudgetOptions

    @Flag(help: "Log debug lines.")
    var verbose = false

    func validate() throws {
        guard (1...65535).contains(server.port) else { throw ValidationError("--port must be 1…65535") }
        guard server.aliveTimeout >= 100, server.expireTimeout >= 100 else {
            throw ValidationError("--alive_timeout and --expire_timeout must be at least 100 ms")
        }
        guard server.concurrentLimit >= 1 else { throw ValidationError("--concurrent_limit must be at least 1") }
        guard !server.key.isEmpty else { throw ValidationError("--key must not be empty") }
        guard (server.sslKey == nil) == (server.sslCert == nil) else {
            throw ValidationError("--sslkey and --sslcert go together")
        }
        guard budget.figures.allSatisfy({ $0.isFinite && $0 >= 1 }) else {
            throw ValidationError("--frames-per-second, --frame-burst, --kib-per-second and --kib-burst must be at least 1")
        }
    }

    func run() throws {
        Log.minimum = verbose ? .debug : .info
        signal(SIGPIPE, SIG_IGN)
        var settings = server.settings()
        // The same per-socket budget as the door's built-in server, so one client cannot take the loop's time.
        settings.budget = budget.budget()
        let listen = (host: server.host, port: server.port)
        let tls = server.tlsFiles()
        let started = "PeerJS server on \(listen.host):\(listen.port), \(server.summary)" + (tls == nil ? "" : ", TLS")
            + ", budget \(budget.summary)"
        let failed = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        GLibLoop.shared.start()
        GLibLoop.shared.post {
            do {
                let webSockets = try WebSocketHost(listen: listen, tls: tls)
                outcome.keep(webSockets)
                outcome.keep(PeerServer(host: webSockets, settings: settings))
                Log.info("peerserver", started)
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
