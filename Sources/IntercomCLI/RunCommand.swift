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

    // The options by concern, in the order `--help` lists them (RunOptions.swift).
    @OptionGroup var server: ServerOptions
    @OptionGroup var places: PlaceOptions
    @OptionGroup var door: DoorOptions
    @OptionGroup var ice: ICEOptions

    @Flag(help: "Log debug lines.")
    var verbose = false

    @OptionGroup var bench: BenchmarkOptions

    /// 78 (EX_CONFIG, which the unit does not restart) for what only a person can fix — a missing package, a
    /// wrong setting; 1 for what may pass (a port still in use), so systemd tries again.
    static func exitStatus(for error: any Error) -> Int32 {
        if error is ConfigurationError { return ConfigurationError.exitStatus }
        if let media = error as? MediaError, media.code == .missingElement { return ConfigurationError.exitStatus }
        return 1
    }

    static var defaultControlPath: String { DeviceOptions.defaultControlPath }

    func validate() throws {
        if let listen = server.listen, listen != "off", Configuration.Listen(parsing: listen) == nil {
            throw ValidationError("--listen must be HOST:PORT or 'off', not '\(listen)'")
        }
        if let roomLifetime = door.roomLifetime, !(10...3600).contains(roomLifetime) {
            throw ValidationError("--room-lifetime must be 10…3600 seconds")
        }
        if let answerTimeout = door.answerTimeout, !(5...600).contains(answerTimeout) {
            throw ValidationError("--answer-timeout must be 5…600 seconds")
        }
    }

    /// The file's settings (or the defaults) with the command line's on top.
    func resolvedConfiguration() throws -> Configuration {
        var c = Configuration()
        if let config { c = try ConfigCheck.load(config) }
        try server.apply(to: &c)
        places.apply(to: &c)
        door.apply(to: &c)
        try ice.apply(to: &c)
        if verbose { c.log.level = .debug }
        if c.signaling.listen == nil, c.signaling.server == nil {
            throw ValidationError("--listen off needs --signaling URL (no built-in server to use)")
        }
        return c
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
        bench.apply(to: &options.media)
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
