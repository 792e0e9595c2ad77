import DoorCore
import MainLoop

/// Something that delivers debounced `ButtonPress` events on the GLib loop: GPIO lines, the terminal, the
/// control socket. The core sees the same events whichever backend produced them.
@GLibActor
public protocol ButtonSource: AnyObject {
    /// Starts delivering presses to `handler` (always called on the GLib loop). Throws `ButtonsError` when the
    /// hardware is missing or misconfigured.
    func start(_ handler: @escaping @GLibActor (ButtonPress) -> Void) throws
    /// Stops delivering presses and releases what `start` acquired. Safe to call more than once.
    func stop()
}
