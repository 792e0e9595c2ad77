import DoorCore
import MainLoop

/// The device screen: renders each `Screen` the core decides on and hands the frame to a sink (the KMS
/// scanout on a Pi, a window on a desktop, PNG snapshots elsewhere).
///
/// It runs no timer of its own: the core calls `show` again every second while a countdown runs, so the
/// picture never disagrees with the core's state. During a call the media path calls `showVideo` with the
/// caller's pictures; they are drawn at most `videoFramesPerSecond` times a second.
@GLibActor
public final class Display {
    private let renderer: ScreenRenderer
    private let sink: any DisplaySink
    /// What the screen shows now; nil before the first frame reached the sink.
    public private(set) var current: Screen?
    /// How long the last `show` took from the call to the frame handed to the sink, in milliseconds.
    public private(set) var lastShowMillis: Double = 0
    /// The last failure, logged once until it changes so a broken sink does not flood the journal each second.
    private var lastFailure: String?
    private var video: VideoPicture?
    /// A picture the caller sent, shown in place of their video until `until` (monotonic ms).
    private var sentPicture: (picture: VideoPicture, until: Int64)?
    private var selfView: VideoPicture?
    private var captionQueue = CaptionQueue()
    private var lastVideoFrameAt: Int64 = 0
    private let videoFramesPerSecond: Int

    public var width: Int { renderer.width }
    public var height: Int { renderer.height }

    /// `videoFramesPerSecond` 0 keeps the in-call screen without video (e.g. snapshots only on changes).
    public init(sink: any DisplaySink, width: Int = 800, height: Int = 480, videoFramesPerSecond: Int = 0) throws {
        renderer = try ScreenRenderer(width: width, height: height)
        self.sink = sink
        self.videoFramesPerSecond = max(0, videoFramesPerSecond)
    }

    /// Renders `screen` and shows it. Asking for the screen already shown does nothing; on failure the error
    /// is logged and the old picture stays, the next call tries again.
    public func show(_ screen: Screen) {
        guard screen != current else { return }
        if case .inCall = screen {} else {
            (video, selfView) = (nil, nil)
            sentPicture = nil
            captionQueue.clear()
        }
        present(screen)
    }

    /// A decoded picture of the caller, drawn under the in-call overlay when the rate allows.
    public func showVideo(_ picture: VideoPicture) {
        guard videoFramesPerSecond > 0, case .inCall? = current, picture.isWellFormed else { return }
        video = picture
        let now = monotonicMillis()
        guard now - lastVideoFrameAt >= Int64(1000 / videoFramesPerSecond) else { return }
        lastVideoFrameAt = now
        present(current!)
    }

    /// A chat line over the running call: shown at once, fully for 5 s, then faded out over 1 s (redrawn with
    /// the caller's pictures and the call's clock).
    public func showCaption(_ text: String) {
        guard case .inCall? = current else { return }
        captionQueue.add(text, at: monotonicMillis())
        present(current!)
    }

    /// A picture the caller sent during the call (docs/sharing.md#pictures-to-the-door): shown over the whole
    /// screen instead of their video for `millis`, under the in-call overlay; the next redraw after that goes
    /// back to the video.
    public func showSentPicture(_ picture: VideoPicture, forMillis millis: Int64) {
        guard case .inCall? = current, picture.isWellFormed else { return }
        sentPicture = (picture, monotonicMillis() + millis)
        present(current!)
    }

    /// The device camera's own picture; drawn with the next caller picture (it never triggers a redraw).
    public func showSelfView(_ picture: VideoPicture) {
        guard case .inCall? = current, picture.isWellFormed else { return }
        selfView = picture
    }

    /// Lets go of the output (the lifecycle's last stop): the console gets the screen back, the last snapshot
    /// is on disk. Later `show` calls do nothing.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        sink.stop()
    }

    private var stopped = false

    private func present(_ screen: Screen) {
        guard !stopped else { return }
        let started = monotonicMicros()
        if let sent = sentPicture, sent.until <= monotonicMillis() { sentPicture = nil }
        do {
            try sink.show(renderer.render(screen, video: sentPicture?.picture ?? video, selfView: selfView,
                                          captions: captionQueue.captions(at: monotonicMillis())), screen: screen)
            current = screen
            lastFailure = nil
            lastShowMillis = Double(monotonicMicros() - started) / 1000
        } catch {
            let failure = "\(error)"
            if failure != lastFailure { Log.error("display", "cannot show \(screen): \(failure)") }
            lastFailure = failure
        }
    }
}
