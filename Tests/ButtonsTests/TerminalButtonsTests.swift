import Glibc
import DoorCore
import MainLoop
import Testing
import TestSupport
@testable import Buttons

/// A pseudo-terminal pair: the test types on `controller`, `TerminalButtons` reads `terminal`.
private struct PseudoTerminal {
    let controller: Int32
    let terminal: Int32

    init() throws {
        // posix_openpt/unlockpt/ptsname are not visible from Swift; these are the ioctls they wrap
        // (TIOCSPTLCK = _IOW('T', 0x31, int), TIOCGPTN = _IOR('T', 0x30, unsigned int)).
        controller = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(controller >= 0, "cannot open /dev/ptmx: \(String(cString: strerror(errno)))")
        var unlock: Int32 = 0
        var number: UInt32 = 0
        try #require(ioctl(controller, 0x4004_5431, &unlock) == 0, "TIOCSPTLCK failed")
        try #require(ioctl(controller, 0x8004_5430, &number) == 0, "TIOCGPTN failed")
        let name = "/dev/pts/\(number)"
        terminal = open(name, O_RDWR | O_NOCTTY)
        try #require(terminal >= 0, "cannot open \(name)")
    }

    func close() {
        Glibc.close(terminal)
        Glibc.close(controller)
    }

    var localFlags: tcflag_t {
        var settings = termios()
        tcgetattr(terminal, &settings)
        return settings.c_lflag
    }

    func type(_ keys: String) {
        let bytes = Array(keys.utf8)
        _ = bytes.withUnsafeBytes { write(controller, $0.baseAddress, $0.count) }
    }

    /// What the program wrote to the terminal so far.
    func output() -> String {
        var collected: [UInt8] = []
        var poller = pollfd(fd: controller, events: Int16(POLLIN), revents: 0)
        while poll(&poller, 1, 200) > 0 {
            var chunk = [UInt8](repeating: 0, count: 512)
            let count = chunk.withUnsafeMutableBytes { read(controller, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            collected += chunk[..<count]
        }
        return String(decoding: collected, as: UTF8.self)
    }
}

@Suite struct TerminalButtonsTests {
    init() { GLibLoop.shared.start() }

    @Test func keysMapToPresses() {
        #expect(TerminalButtons.press(forKey: UInt8(ascii: "b")) == ButtonPress(.doorbell))
        #expect(TerminalButtons.press(forKey: UInt8(ascii: " ")) == ButtonPress(.doorbell))
        #expect(TerminalButtons.press(forKey: UInt8(ascii: "B")) == ButtonPress(.doorbell, long: true))
        #expect(TerminalButtons.press(forKey: UInt8(ascii: "a")) == ButtonPress(.answer))
        #expect(TerminalButtons.press(forKey: UInt8(ascii: "d")) == ButtonPress(.decline))
        #expect(TerminalButtons.press(forKey: UInt8(ascii: "m")) == ButtonPress(.mute))
        #expect(TerminalButtons.press(forKey: UInt8(ascii: "x")) == nil)
        #expect(TerminalButtons.press(forKey: 0x1b) == nil)
    }

    @Test func aTerminalIsReadInRawModeAndRestoredOnStop() async throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        #expect(pty.localFlags & tcflag_t(ICANON) != 0)
        let terminal = TerminalButtons(inputFD: pty.terminal, helpFD: pty.terminal)
        let recorder = PressRecorder()
        try await terminal.start { recorder.append($0) }
        #expect(await terminal.isActive)
        #expect(pty.localFlags & tcflag_t(ICANON | ECHO) == 0)
        #expect(pty.output().contains(TerminalButtons.help))

        // No newline needed: every key counts as it is typed; unknown keys are ignored.
        pty.type("bxa")
        pty.type("B")
        let expected = [ButtonPress(.doorbell), ButtonPress(.answer), ButtonPress(.doorbell, long: true)]
        #expect(await eventuallyHere { recorder.all == expected })
        #expect(recorder.all == expected)

        await terminal.stop()
        #expect(await !terminal.isActive)
        #expect(pty.localFlags & tcflag_t(ICANON) != 0)
        #expect(pty.localFlags & tcflag_t(ECHO) != 0)
    }

    @Test func notATerminalMeansNothingToDo() async throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let terminal = TerminalButtons(inputFD: fds[0], helpFD: fds[1])
        try await terminal.start { _ in }
        #expect(await !terminal.isActive)
        await terminal.stop()
    }
}
