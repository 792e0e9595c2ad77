import CGLib
import Glibc
import DoorCore
import MainLoop

/// Push buttons on GPIO lines through libgpiod, the v1 API (1.6, Debian 12) or v2 (2.x, Debian 13) as the build
/// found it (`GPIOLibrary.api`): the chip is found by label among `/dev/gpiochip*` (`GPIOChip`), each line is
/// requested for both-edge events with bias and polarity (`GPIOLineRequest`), its event fd is watched on the
/// GLib loop, and edges (`GPIOEdge`) go through a `Debouncer` per button on both APIs. No polling thread.
@GLibActor
public final class GPIOButtons: ButtonSource {
    public struct Line: Sendable, Equatable {
        /// Offset of the line on the chip; on a Pi header chip this is the BCM GPIO number.
        public var offset: UInt32
        /// The button pulls the line to ground when pressed (the usual wiring with a pull-up).
        public var activeLow: Bool
        /// Enable the SoC's internal pull-up (v1 `GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP`, v2 `GPIOD_LINE_BIAS_PULL_UP`).
        public var pullUp: Bool

        public init(offset: UInt32, activeLow: Bool = true, pullUp: Bool = true) {
            self.offset = offset
            self.activeLow = activeLow
            self.pullUp = pullUp
        }
    }

    public struct Configuration: Sendable, Equatable {
        /// Chip label (`pinctrl-bcm2711` on a Pi 4, `pinctrl-rp1` on a Pi 5), name (`gpiochip0`) or path.
        public var chip: String
        public var lines: [Button: Line]
        public var debounceMillis: Int64
        public var longPressMillis: Int64
        /// Shown by `gpioinfo` as the user of the lines.
        public var consumer: String
        /// Where to look for `gpiochip*` devices.
        public var deviceDirectory: String

        public init(chip: String, lines: [Button: Line], debounceMillis: Int64 = 30, longPressMillis: Int64 = 1500,
                    consumer: String = "intercom", deviceDirectory: String = "/dev") {
            self.chip = chip
            self.lines = lines
            self.debounceMillis = debounceMillis
            self.longPressMillis = longPressMillis
            self.consumer = consumer
            self.deviceDirectory = deviceDirectory
        }
    }

    public let configuration: Configuration
    private var watchers: [GPIOButtonWatcher] = []

    public nonisolated init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Requests every configured line and starts watching it. Throws `ButtonsError` (chip not found, line
    /// missing or busy, no permission) before watching anything, so a bad config fails as a whole.
    public func start(_ handler: @escaping @GLibActor (ButtonPress) -> Void) throws {
        stop()
        guard !configuration.lines.isEmpty else { return }
        let byOffset = Dictionary(grouping: configuration.lines, by: \.value.offset)
        if let (offset, shared) = byOffset.first(where: { $0.value.count > 1 }) {
            let names = shared.map(\.key.rawValue).sorted().joined(separator: " and ")
            throw ButtonsError(.lineUnavailable, "GPIO line \(offset) is configured for both \(names)")
        }
        let chip = try GPIOChip.find(configuration.chip, deviceDirectory: configuration.deviceDirectory)
        let requests = try configuration.lines.sorted { $0.value.offset < $1.value.offset }.map { button, line in
            (button, try GPIOLineRequest(chip: chip, offset: line.offset, button: button, activeLow: line.activeLow,
                                         pullUp: line.pullUp, consumer: configuration.consumer))
        }
        watchers = requests.map { button, request in
            GPIOButtonWatcher(request: request,
                              debouncer: Debouncer(button: button, debounceMillis: configuration.debounceMillis,
                                                   longPressMillis: configuration.longPressMillis),
                              handler: handler)
        }
        let summary = requests.map { "\($0.0.rawValue)=\($0.1.offset)" }.joined(separator: " ")
        Log.info("buttons", "GPIO buttons on \(chip.name) '\(chip.label)': \(summary)")
    }

    public func stop() {
        watchers.forEach { $0.stop() }
        watchers = []
    }

    isolated deinit { stop() }
}

/// One requested line: its fd watch, its debouncer and the timer for the debouncer's next deadline.
@GLibActor
final class GPIOButtonWatcher {
    private let request: GPIOLineRequest
    private var debouncer: Debouncer
    private let handler: @GLibActor (ButtonPress) -> Void
    private var watch: FDWatch?
    private var timer: GLibTimer?

    init(request: GPIOLineRequest, debouncer: Debouncer, handler: @escaping @GLibActor (ButtonPress) -> Void) {
        self.request = request
        self.debouncer = debouncer
        self.handler = handler
        watch = FDWatch(fd: request.eventFD, conditions: [G_IO_IN, G_IO_ERR, G_IO_HUP]) { [weak self] _ in
            self?.readable() ?? false
        }
    }

    func stop() {
        watch?.cancel()
        watch = nil
        timer = nil
    }

    private func readable() -> Bool {
        guard let edge = request.readEdge() else {
            Log.error("buttons", "reading GPIO line \(request.offset) (\(debouncer.button.rawValue)) failed: "
                      + "\(String(cString: strerror(errno))); this button stops working")
            timer = nil
            return false
        }
        deliver(debouncer.feed(edge.level, atMillis: edge.millis))
        schedule(from: edge.millis)
        return true
    }

    /// Event times are on the kernel's clock, so the timer waits for the remaining interval and then moves
    /// the debouncer to exactly its deadline; a new edge reschedules it.
    private func schedule(from millis: Int64) {
        timer = nil
        guard let deadline = debouncer.nextDeadlineMillis else { return }
        let delay = UInt32(clamping: max(0, deadline - millis))
        timer = GLibTimer(milliseconds: delay) { [weak self] in self?.deadlineReached(deadline) }
    }

    private func deadlineReached(_ deadline: Int64) {
        deliver(debouncer.advance(toMillis: deadline))
        schedule(from: deadline)
    }

    private func deliver(_ presses: [ButtonPress]) {
        for press in presses {
            Log.info("buttons", "GPIO \(press.long ? "long " : "")\(press.button.rawValue)")
            handler(press)
        }
    }
}
