@testable import Door
import DoorCore
import MainLoop
import Notify

/// The notifier seam: records each ring the door would send and each withdrawal, and sends nothing.
@GLibActor
final class FakeNotifier: RingNotifier {
    let targets: [Configuration.NotifyTarget] = []
    let pushSubscriptions: PushSubscriptionStore? = nil
    private(set) var picture: RingPicture?
    var onDelivered: ((Notifier.Delivery) -> Void)?
    var onPushGone: ((PushSubscription) -> Void)?
    /// Every ring, oldest first, with the extra subscriptions (paired browsers') it went to.
    private(set) var rings: [(notice: RingNotice, alsoTo: [PushSubscription])] = []
    private(set) var cancels = 0

    func ring(_ ring: RingNotice, ttlSeconds: Int, alsoTo extra: [PushSubscription], picture: RingPicture?) {
        rings.append((ring, extra))
        self.picture = picture
    }

    func cancelAll() { cancels += 1 }

    func pushKey() throws(NotifyError) -> VAPIDKey { throw NotifyError(.setup, "no Web Push in the door tests") }
}
