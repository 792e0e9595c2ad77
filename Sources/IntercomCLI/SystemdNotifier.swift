import Glibc
import DoorCore
import MainLoop

/// The `sd_notify(3)` protocol without libsystemd: one datagram per message to the Unix socket named by
/// `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace). systemd's `Type=notify` waits for
/// `READY=1`; with `WatchdogSec=` it sets `WATCHDOG_USEC` and kills the service when `WATCHDOG=1` stops
/// coming. Outside systemd (no `NOTIFY_SOCKET`) every call does nothing.
struct SystemdNotifier: Sendable {
    private let socketPath: [UInt8]

    /// The notifier for this process, or nil when systemd is not listening.
    static func fromEnvironment() -> SystemdNotifier? {
        guard let value = getenv("NOTIFY_SOCKET") else { return nil }
        var path = Array(String(cString: value).utf8)
        guard path.count > 1, path.first == UInt8(ascii: "/") || path.first == UInt8(ascii: "@") else { return nil }
        if path[0] == UInt8(ascii: "@") { path[0] = 0 }  // abstract socket: leading NUL
        return SystemdNotifier(socketPath: path)
    }

    /// The watchdog interval systemd expects pings within, when it is meant for this process.
    static func watchdogMillis() -> UInt32? {
        guard let text = getenv("WATCHDOG_USEC").map({ String(cString: $0) }), let usec = UInt64(text), usec > 0 else {
            return nil
        }
        if let pid = getenv("WATCHDOG_PID").map({ String(cString: $0) }), Int32(pid) != getpid() { return nil }
        return UInt32(clamping: usec / 1000)
    }

    /// Sends `state` (newline-separated `KEY=value` lines); false when the datagram could not be sent.
    @discardableResult
    func notify(_ state: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard socketPath.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: socketPath)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + socketPath.count)
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sockaddrPointer, length) }
            }
        }
        return sent == bytes.count
    }
}

/// Tells systemd the device is up, then pings its watchdog from the GLib main loop at half the interval.
/// The ping is a timer on the loop, so it stops when the loop stops iterating (a deadlock, a callback that
/// never returns), and systemd restarts the process; a free-running thread would hide exactly that.
@GLibActor
final class ServiceWatchdog {
    private let notifier: SystemdNotifier
    private var timer: GLibTimer?

    init?(notifier: SystemdNotifier?) {
        guard let notifier else { return nil }
        self.notifier = notifier
    }

    /// `READY=1` with a status line, and the watchdog pings if systemd asked for them.
    func ready(status: String) {
        notifier.notify("READY=1\nSTATUS=\(status)\nMAINPID=\(getpid())")
        guard let interval = SystemdNotifier.watchdogMillis() else { return }
        let period = max(interval / 2, 1)
        Log.info("intercom", "systemd watchdog: \(interval) ms, pinging every \(period) ms")
        timer = GLibTimer(milliseconds: period, repeating: true) { [notifier] in
            notifier.notify("WATCHDOG=1")
        }
    }
}
