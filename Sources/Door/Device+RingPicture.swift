import DoorCore
import MainLoop
import Media
import Notify

/// The ring's still (docs/notifications.md#the-ring-picture): taken from the camera the press starts, it goes
/// with the notifications, in Web Push as an id, and to the paired browsers' ringing dialog over their ring link.
extension Device {
    /// A picture for this ring when `notify.picture` is on and someone would receive it (a target, a Web Push
    /// subscription or a paired browser); nil: no picture is taken at all.
    func makeRingPicture() -> RingPicture? {
        guard options.configuration.notify.picture, let notifier else { return nil }
        let audience = !notifier.targets.isEmpty || !(notifier.pushSubscriptions?.subscriptions.isEmpty ?? true)
            || !(paired?.store.pairings.isEmpty ?? true)
        return audience ? RingPicture() : nil
    }

    /// Fills `picture` from the camera that `media.warmUp()` started (called right after it).
    func grabRingPicture(_ picture: RingPicture?) {
        guard let picture else { return }
        media.grabStill { [weak picture] still in picture?.deliver(still?.jpeg) }
    }
}
