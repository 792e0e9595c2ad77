import CGLib
import Glibc
import DoorCore
import MainLoop
import Synchronization

/// The four buttons on the keyboard, for `make run` on a laptop: when the input is a terminal it is put in
/// non-canonical, no-echo mode (`tcsetattr`) and watched on the GLib loop, one key one press:
/// `b` or space = doorbell, `a` = answer, `d` = decline, `m` = mute; the capital letter is the long press of
/// the same button (`B` = long doorbell). Ctrl-C still interrupts. The terminal is restored by `stop()` and,
/// as a safety net, when the process exits. When the input is not a terminal (systemd, CI) `start` does nothing.
@GLibActor
public final class TerminalButtons: ButtonSource {
    public let inputFD: Int32
    public let helpFD: Int32
    private var watch: FDWatch?
    private var original: termios?

    /// `inputFD` is read for keys; the one-line key help goes to `helpFD`.
    public nonisolated init(inputFD: Int32 = STDIN_FILENO, helpFD: Int32 = STDOUT_FILENO) {
        self.inputFD = inputFD
        self.helpFD = helpFD
    }

    /// True while keys are being read.
    public var isActive: Bool { watch?.isActive ?? false }

    public nonisolated static let help = "keys: b/space doorbell · a answer · d decline · m mute · capital letter = long press (B = long doorbell)"

    public func start(_ handler: @escaping @GLibActor (ButtonPress) -> Void) throws {
        stop()
        guard isatty(inputFD) == 1 else { return }
        var saved = termios()
        guard tcgetattr(inputFD, &saved) == 0 else {
            throw ButtonsError(.terminal, "cannot read terminal settings: \(String(cString: strerror(errno)))")
        }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(inputFD, TCSANOW, &raw) == 0 else {
            throw ButtonsError(.terminal, "cannot switch the terminal to raw mode: \(String(cString: strerror(errno)))")
        }
        original = saved
        TerminalRestore.remember(fd: inputFD, settings: saved)
        watch = FDWatch(fd: inputFD, conditions: [G_IO_IN, G_IO_HUP, G_IO_ERR]) { [weak self] _ in
            self?.readable(handler) ?? false
        }
        let line = Array((Self.help + "\n").utf8)
        _ = line.withUnsafeBytes { write(helpFD, $0.baseAddress, $0.count) }
    }

    public func stop() {
        watch?.cancel()
        watch = nil
        if var saved = original {
            tcsetattr(inputFD, TCSANOW, &saved)
            TerminalRestore.forget(fd: inputFD)
            original = nil
        }
    }

    isolated deinit { stop() }

    /// The press a key stands for, if any.
    public nonisolated static func press(forKey key: UInt8) -> ButtonPress? {
        switch key {
        case UInt8(ascii: "b"), UInt8(ascii: " "): ButtonPress(.doorbell)
        case UInt8(ascii: "B"): ButtonPress(.doorbell, long: true)
        case UInt8(ascii: "a"): ButtonPress(.answer)
        case UInt8(ascii: "A"): ButtonPress(.answer, long: true)
        case UInt8(ascii: "d"): ButtonPress(.decline)
        case UInt8(ascii: "D"): ButtonPress(.decline, long: true)
        case UInt8(ascii: "m"): ButtonPress(.mute)
        case UInt8(ascii: "M"): ButtonPress(.mute, long: true)
        default: nil
        }
    }

    private func readable(_ handler: @GLibActor (ButtonPress) -> Void) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(inputFD, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR || errno == EAGAIN { return true }
        guard count > 0 else {
            // End of input or a hung-up terminal: nothing more will come.
            stop()
            return false
        }
        for key in buffer[..<count] {
            guard let press = Self.press(forKey: key) else { continue }
            Log.info("buttons", "key \(press.long ? "long " : "")\(press.button.rawValue)")
            handler(press)
        }
        return true
    }
}

/// Terminal settings to put back if the process exits while in raw mode (`atexit`).
private enum TerminalRestore {
    static let saved = Mutex<[Int32: termios]>([:])
    static let registered = Atomic(false)

    static func remember(fd: Int32, settings: termios) {
        saved.withLock { $0[fd] = settings }
        if registered.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged {
            atexit(restoreTerminalsAtExit)
        }
    }

    static func forget(fd: Int32) {
        _ = saved.withLock { $0.removeValue(forKey: fd) }
    }
}

private func restoreTerminalsAtExit() {
    TerminalRestore.saved.withLock { saved in
        for (fd, settings) in saved {
            var settings = settings
            tcsetattr(fd, TCSANOW, &settings)
        }
    }
}
