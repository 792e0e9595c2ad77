import ArgumentParser
import Dispatch
import Glibc
import Intercom
import MainLoop

/// `intercom run`: the device itself.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the intercom (the default).")

    @Option(help: "Built-in signaling + web server address, HOST:PORT, or 'off' to use --signaling only.")
    var listen = "0.0.0.0:8080"

    @Option(help: "Signaling server URL (ws://, wss://). Default: the built-in server.")
    var signaling: String?

    @Option(help: "PeerJS key.")
    var key = "peerjs"

    @Option(help: "Directory of the web client served by the built-in server.")
    var webRoot: String?

    @Option(help: "Base URL of the web client in join links.")
    var webBase = "http://localhost:8080"

    @Option(help: "Prefix of the room's peer ID; the 5-digit code follows it.")
    var roomPrefix = "intercom-"

    @Option(help: "Control socket path.")
    var control = RunCommand.defaultControlPath

    @Option(help: "Directory for PNG snapshots of the screen.")
    var snapshots = "/var/lib/intercom/snapshots"

    @Option(help: "Name of the door, shown on the idle screen.")
    var doorName = "Front door"

    @Option(help: "Seconds an unanswered room stays open.")
    var roomLifetime = 120

    @Flag(help: "Log debug lines.")
    var verbose = false

    static var defaultControlPath: String {
        if let dir = getenv("RUNTIME_DIRECTORY") { return String(cString: dir) + "/control.sock" }
        return "/run/intercom/control.sock"
    }

    func validate() throws {
        if listen != "off", DeviceOptions.parseListen(listen) == nil {
            throw ValidationError("--listen must be HOST:PORT or 'off', not '\(listen)'")
        }
        if listen == "off", signaling == nil {
            throw ValidationError("--listen off needs --signaling URL (no built-in server to use)")
        }
        guard (10...3600).contains(roomLifetime) else { throw ValidationError("--room-lifetime must be 10…3600 seconds") }
    }

    func run() throws {
        Log.minimum = verbose ? .debug : .info
        signal(SIGPIPE, SIG_IGN)
        let options = DeviceOptions(
            listen: DeviceOptions.parseListen(listen), signaling: signaling, key: key,
            webRoot: webRoot ?? DeviceOptions.defaultWebRoot(), webBase: webBase, roomPrefix: roomPrefix,
            controlPath: control, snapshotDirectory: snapshots, doorName: doorName,
            roomLifetimeMillis: Int64(roomLifetime) * 1000)
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        GLibLoop.shared.start()
        GLibLoop.shared.post {
            do {
                let device = try Device(options: options) { done.signal() }
                outcome.keep(device)
            } catch {
                Log.error("intercom", "\(error)")
                outcome.fail()
                done.signal()
            }
        }
        done.wait()
        if outcome.failed { throw ExitCode(78) }
    }
}

/// Carries the running device (kept alive) and whether start-up failed, between the GLib and main threads.
final class Outcome: @unchecked Sendable {
    // Written on the GLib thread before `done` is signalled, read on the main thread after: the semaphore
    // orders the accesses.
    private var device: AnyObject?
    private(set) var failed = false
    func keep(_ device: AnyObject) { self.device = device }
    func fail() { failed = true }
}
