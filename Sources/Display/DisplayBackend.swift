import DoorCore
import MainLoop

/// Chooses where the screen goes at start-up: KMS/DRM when a connected panel exists, else a desktop window,
/// else PNG snapshots only. `auto` falls back with one log line; asking for `drm` or `window` explicitly makes
/// a missing device an error.
public enum DisplayBackend {
    public enum Mode: String, Sendable, CaseIterable { case auto, drm, window, snapshot }

    public struct Configuration: Sendable, Equatable {
        public var mode: Mode = .auto
        /// A connector name such as `HDMI-A-1` or `DSI-1`; nil = the first connected one.
        public var connector: String?
        public var rotation: VideoOutputSink.Rotation = .none
        /// The KMS mode (`display.mode`): the connector's preferred one, or one of its modes by size.
        public var screenMode: DoorCore.Configuration.Display.Mode = .auto
        /// Frame size when no panel tells us its mode (window, snapshots).
        public var width = 800
        public var height = 480
        /// Where PNG snapshots go when there is no panel or window (nil: a `snapshots` folder here).
        public var snapshotDirectory: String?
        /// Also write snapshots while a panel or window shows the screen (off on a device: SD cards wear).
        public var snapshotsAlongsideOutput = false
        /// PNG snapshots per second during a call (0: only on screen changes).
        public var snapshotCallFramesPerSecond = 1
        /// How often the caller's video is redrawn on a real output.
        public var videoFramesPerSecond = 15
        public var drmDirectory = "/dev/dri"
        public init() {}
    }

    /// The screen and, when snapshots are written, their sink (for `latest.png`).
    public struct Opened {
        public let display: Display
        public let snapshots: SnapshotSink?
        /// One line for the log: which output and size.
        public let description: String
    }

    @GLibActor
    public static func open(_ configuration: Configuration) throws -> Opened {
        var output: (sink: VideoOutputSink, width: Int, height: Int, what: String)?
        if configuration.mode == .auto || configuration.mode == .drm {
            do {
                output = try openKMS(configuration)
            } catch {
                if configuration.mode == .drm { throw error }
                Log.info("display", "no display device (\(error)); using \(fallbackName(configuration))")
            }
        }
        if output == nil, configuration.mode == .window
            || (configuration.mode == .auto && VideoOutputSink.hasWindowSystem()) {
            do {
                let (w, h) = rotated(configuration.width, configuration.height, configuration.rotation)
                let sink = try VideoOutputSink(output: .window, width: w, height: h)
                output = (sink, w, h, "window \(w)x\(h)")
            } catch {
                if configuration.mode == .window { throw error }
                Log.info("display", "no window (\(error)); using snapshots")
            }
        }
        let size = output.map { ($0.width, $0.height) }
            ?? rotated(configuration.width, configuration.height, configuration.rotation)
        var snapshots: SnapshotSink?
        if output == nil || configuration.snapshotsAlongsideOutput {
            let directory = configuration.snapshotDirectory ?? "snapshots"
            snapshots = try SnapshotSink(directory: directory,
                                         callFramesPerSecond: configuration.snapshotCallFramesPerSecond)
        }
        let sinks: [any DisplaySink] = [output?.sink as (any DisplaySink)?, snapshots as (any DisplaySink)?].compactMap { $0 }
        let sink: any DisplaySink = sinks.count == 1 ? sinks[0] : TeeSink(sinks)
        let fps = output != nil ? configuration.videoFramesPerSecond : configuration.snapshotCallFramesPerSecond
        let display = try Display(sink: sink, width: size.0, height: size.1, videoFramesPerSecond: fps)
        var what = output?.what ?? "snapshots \(size.0)x\(size.1)"
        if let snapshots, output != nil { what += " + snapshots in \(snapshots.directory)" }
        else if let snapshots { what += " in \(snapshots.directory)" }
        return Opened(display: display, snapshots: snapshots, description: what)
    }

    /// The card with the wanted (or first connected) connector, at its preferred mode or the configured one.
    static func openKMS(_ configuration: Configuration) throws
        -> (sink: VideoOutputSink, width: Int, height: Int, what: String) {
        let cards = try DRMProbe.cards(in: configuration.drmDirectory)
        let candidates = cards.flatMap { card in card.connectors.map { (card, $0) } }
        let chosen: (DRMCard, DRMConnector)?
        if let name = configuration.connector {
            chosen = candidates.first { $0.1.name == name }
            guard chosen != nil else {
                let known = candidates.map(\.1.name).joined(separator: ", ")
                throw DisplayError.noDisplay("no connector \(name) (found: \(known.isEmpty ? "none" : known))")
            }
        } else {
            chosen = candidates.first { $0.1.connected }
        }
        guard let (card, connector) = chosen, connector.connected else {
            throw DisplayError.noDisplay("no panel connected to \(cards.map(\.path).joined(separator: ", "))")
        }
        guard let preferred = connector.preferredMode else {
            throw DisplayError.noDisplay("\(connector.name) reports no display mode")
        }
        var mode = preferred
        if case .size(let width, let height) = configuration.screenMode {
            guard let chosen = connector.mode(width: width, height: height) else {
                var offered: [String] = []
                for m in connector.modes.sorted(by: { ($0.width, $0.height) > ($1.width, $1.height) })
                where !offered.contains("\(m.width)x\(m.height)") {
                    offered.append("\(m.width)x\(m.height)")
                }
                throw DisplayError.noDisplay("\(connector.name) has no \(width)x\(height) mode (display.mode); it offers "
                                             + offered.joined(separator: ", "))
            }
            mode = chosen
        }
        let (w, h) = rotated(mode.width, mode.height, configuration.rotation)
        let sink = try VideoOutputSink(output: .kms(driver: card.driver, connectorID: connector.id, canScale: true),
                                       width: w, height: h, rotation: configuration.rotation)
        return (sink, w, h, "kmssink on \(card.path) \(connector.name) \(mode.name)")
    }

    /// Frames are drawn upright: a panel turned a quarter gets portrait frames.
    static func rotated(_ width: Int, _ height: Int, _ rotation: VideoOutputSink.Rotation) -> (Int, Int) {
        rotation.swapsAxes ? (height, width) : (width, height)
    }

    private static func fallbackName(_ configuration: Configuration) -> String {
        VideoOutputSink.hasWindowSystem() ? "a window" : "snapshots"
    }
}

/// Shows every frame on several sinks (the panel and the snapshots); one failing does not stop the others.
final class TeeSink: DisplaySink {
    private let sinks: [any DisplaySink]
    init(_ sinks: [any DisplaySink]) { self.sinks = sinks }

    func show(_ frame: Frame, screen: Screen) throws {
        var failure: (any Error)?
        for sink in sinks {
            do { try sink.show(frame, screen: screen) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func stop() { sinks.forEach { $0.stop() } }
}
