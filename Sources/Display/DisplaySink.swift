import DoorCore

/// Where rendered frames go: PNG snapshots where there is no panel (`SnapshotSink`), the KMS/DRM scanout on a
/// Pi, a fake in tests. `screen` travels along so a sink can name or log what it shows.
public protocol DisplaySink: AnyObject {
    func show(_ frame: Frame, screen: Screen) throws
    /// Lets go of the output at shutdown (kmssink to NULL, snapshots on disk); nothing is shown after.
    func stop()
}

extension DisplaySink {
    public func stop() {}
}
