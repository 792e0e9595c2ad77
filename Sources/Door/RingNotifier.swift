import DoorCore
import MainLoop
import Notify

/// What the door needs of its notifier: tell everyone about a ring, withdraw it, and the Web Push parts the
/// control socket and paired browsers use. `Notifier` (webhook, ntfy, Home Assistant, Web Push over libsoup) is
/// the real one; `DoorTests` put a recording fake here, so a ring's notice is checked without a network.
@GLibActor
protocol RingNotifier: AnyObject {
    /// The configured targets (`notify.targets`).
    var targets: [Configuration.NotifyTarget] { get }
    /// Browsers subscribed through `ctl push-subscribe`; nil without a state directory.
    var pushSubscriptions: PushSubscriptionStore? { get }
    /// This ring's still while the ring lasts.
    var picture: RingPicture? { get }
    /// A target took the ring.
    var onDelivered: ((Notifier.Delivery) -> Void)? { get set }
    /// A push service said a subscription given in `ring(alsoTo:)` is gone.
    var onPushGone: ((PushSubscription) -> Void)? { get set }
    /// Sends `ring` to every target and subscription (and `extra`), withdrawing an earlier ring's retries.
    func ring(_ ring: RingNotice, ttlSeconds: Int, alsoTo extra: [PushSubscription], picture: RingPicture?)
    /// Withdraws every send still in flight or waiting to retry (the room closed).
    func cancelAll()
    /// The Web Push key, made in the state directory the first time.
    func pushKey() throws(NotifyError) -> VAPIDKey
}

extension Notifier: RingNotifier {}
