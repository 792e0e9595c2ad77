import MainLoop

/// The context every C callback of a session gets. `session` is written and read only on the GLib thread;
/// `counters` is Sendable. That makes sharing it with streaming threads safe.
final class SessionLink: @unchecked Sendable {
    weak var session: CallSession?
    let counters: MediaCounters
    let remoteVideoWidth: Int
    let remoteVideoFramesPerSecond: Int
    let clockStamp: Bool
    init(counters: MediaCounters, remoteVideoWidth: Int = 0, remoteVideoFramesPerSecond: Int = 15, clockStamp: Bool = false) {
        self.counters = counters
        self.clockStamp = clockStamp
        self.remoteVideoWidth = remoteVideoWidth
        self.remoteVideoFramesPerSecond = remoteVideoFramesPerSecond
        LiveSessions.opened()
    }

    deinit { LiveSessions.closed() }
}
