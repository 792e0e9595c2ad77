import Intercom
import MainLoop

/// The device screen: renders each `Screen` the core decides on and hands the frame to a sink (PNG snapshots
/// now, the KMS scanout on a Pi).
///
/// It runs no timer of its own: the core calls `show` again every second while a countdown runs, so the
/// picture never disagrees with the core's state.
@GLibActor
public final class Display {
    private let renderer: ScreenRenderer
    private let sink: any DisplaySink
    /// What the screen shows now; nil before the first frame reached the sink.
    public private(set) var current: Screen?
    /// The last failure, logged once until it changes so a broken sink does not flood the journal each second.
    private var lastFailure: String?

    public init(sink: any DisplaySink, width: Int = 800, height: Int = 480) throws {
        renderer = try ScreenRenderer(width: width, height: height)
        self.sink = sink
    }

    /// Renders `screen` and shows it. Asking for the screen already shown does nothing; on failure the error
    /// is logged and the old picture stays, the next call tries again.
    public func show(_ screen: Screen) {
        guard screen != current else { return }
        do {
            try sink.show(renderer.render(screen), screen: screen)
            current = screen
            lastFailure = nil
        } catch {
            let failure = "\(error)"
            if failure != lastFailure { Log.error("display", "cannot show \(screen): \(failure)") }
            lastFailure = failure
        }
    }
}
