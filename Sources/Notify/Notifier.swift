import DoorCore
import MainLoop

/// Tells every configured target, and every browser subscribed to Web Push, about a ring, each on its own: a
/// slow or failing one delays no other and never the screen (the requests run on the loop, asynchronously).
/// Failures worth retrying are retried with `Backoff` until the target takes it or the room closes
/// (`cancelAll`). Log lines name a target by its kind and host only — never the join link, an ntfy topic, a
/// webhook ID or a push endpoint's path.
@GLibActor
public final class Notifier {
    /// A target took the ring.
    public struct Delivery: Sendable, Equatable {
        /// `webhook`, `ntfy`, `homeassistant` or `webpush`.
        public var target: String
        /// Scheme and host (`HTTPRequest.loggableOrigin`).
        public var origin: String
        public var attempts: Int
        public var status: Int
    }

    public var onDelivered: ((Delivery) -> Void)?
    public let targets: [Configuration.NotifyTarget]
    private let session: HTTPSession
    private let backoff: Backoff
    private let stateDirectory: String?
    /// The VAPID `sub` claim: how a push service's operator reaches whoever runs this device.
    private let pushSubject: String
    private var sends: [TargetSend] = []
    private var vapidKey: VAPIDKey?
    public private(set) lazy var pushSubscriptions: PushSubscriptionStore? = stateDirectory.map {
        PushSubscriptionStore(stateDirectory: $0)
    }

    /// - Parameter stateDirectory: where the Web Push key and subscriptions live; nil: no Web Push.
    public init(_ configuration: Configuration.Notify, stateDirectory: String?, pushSubject: String,
                backoff: Backoff = Backoff()) throws(NotifyError) {
        targets = configuration.targets
        pictureWaitMillis = UInt32(max(0, configuration.pictureWaitMillis))
        session = try HTTPSession(caFile: configuration.caFile)
        self.backoff = backoff
        self.stateDirectory = stateDirectory
        self.pushSubject = pushSubject
        for target in targets where target.url.hasPrefix("http://") {
            Log.warning("notify", "\(target.kind.rawValue) \(HTTPRequest.loggableOrigin(target.url)) is plain HTTP: "
                        + "anyone on that network path can read the join link; use https://")
        }
    }

    /// The Web Push key, made and kept in the state directory the first time it is needed (so a device that
    /// never uses Web Push writes nothing).
    public func pushKey() throws(NotifyError) -> VAPIDKey {
        if let vapidKey { return vapidKey }
        guard let stateDirectory else { throw NotifyError(.setup, "no state directory to keep the Web Push key in") }
        let key = try VAPIDKey.loadOrCreate(stateDirectory: stateDirectory)
        vapidKey = key
        return key
    }

    /// Called when a push service says one of `ring(alsoTo:)`'s subscriptions is gone (404/410); the owner of
    /// that subscription (a paired browser) forgets it.
    public var onPushGone: ((PushSubscription) -> Void)?

    /// This ring's still, while the ring lasts: the paired page asks for it by `RingPicture.id`.
    public private(set) var picture: RingPicture?
    /// How long the targets wait for the picture before they get the ring without one (`notify.picture_wait_ms`).
    /// The picture is usually ready in a few hundred milliseconds (the camera starts at the press); a slow
    /// camera must not make the ring late.
    public var pictureWaitMillis: UInt32
    /// The ring waiting for its picture before it goes to `targets`, and the timer that stops the wait.
    private var waitingRing: RingNotice?
    private var pictureTimer: GLibTimer?

    /// Sends `ring` to every target and subscription. Sends still retrying for an earlier ring are withdrawn.
    /// - Parameter ttlSeconds: how long a push service may hold the message (the room's lifetime).
    /// - Parameter extra: subscriptions kept elsewhere (paired browsers'), pushed to like the stored ones.
    /// - Parameter picture: the ring's still, when it is to be sent: the targets get the ring once it is ready
    ///   (at most `pictureWaitMillis` later, else without it); Web Push at once, with the picture's id.
    public func ring(_ ring: RingNotice, ttlSeconds: Int, alsoTo extra: [PushSubscription] = [],
                     picture: RingPicture? = nil) {
        cancelAll()
        self.picture = picture
        if let picture, !targets.isEmpty {
            waitingRing = ring
            pictureTimer = GLibTimer(milliseconds: pictureWaitMillis) { [weak self] in
                guard let self, waitingRing != nil else { return }
                Log.info("notify", "no picture within \(pictureWaitMillis) ms of the ring; the targets get it without one")
                sendToTargets(nil)
            }
            picture.whenReady { [weak self, weak picture] jpeg in
                guard let self, let picture, self.picture === picture else { return }
                sendToTargets(jpeg)
            }
        } else {
            waitingRing = ring
            sendToTargets(nil)
        }
        var pushed = ring
        pushed.pictureID = picture?.id
        let stored = pushSubscriptions?.subscriptions ?? []
        for subscription in stored + extra {
            do {
                let request = try WebPushMessage.request(ring: pushed, subscription: subscription, key: try pushKey(),
                                                         subject: pushSubject, ttlSeconds: ttlSeconds)
                let send = TargetSend(label: "webpush", url: subscription.endpoint, request: request)
                let isStored = stored.contains(subscription)
                send.onGone = { [weak self] in
                    if isStored { self?.forget(subscription) } else { self?.onPushGone?(subscription) }
                }
                start(send)
            } catch {
                Log.error("notify", "webpush \(HTTPRequest.loggableOrigin(subscription.endpoint)): \(error)")
            }
        }
    }

    /// The waiting ring to every target, with `jpeg` when there is one; once per ring.
    private func sendToTargets(_ jpeg: [UInt8]?) {
        guard let ring = waitingRing else { return }
        waitingRing = nil
        pictureTimer = nil
        for target in targets {
            start(TargetSend(label: target.kind.rawValue, url: target.url,
                             request: HTTPRequest(ring: ring, target: target, picture: jpeg)))
        }
    }

    /// Stops every retry and withdraws requests in flight (the room closed: the link is dead anyway).
    public func cancelAll() {
        sends.forEach { $0.cancel() }
        sends = []
        waitingRing = nil
        pictureTimer = nil
    }

    private func start(_ send: TargetSend) {
        send.onDelivered = { [weak self] delivery in self?.onDelivered?(delivery) }
        sends.append(send)
        send.attempt(session: session, backoff: backoff)
    }

    /// A push service said the subscription is gone (404/410): the browser unsubscribed or was reset.
    private func forget(_ subscription: PushSubscription) {
        Log.info("notify", "webpush subscription '\(subscription.name)' (\(subscription.id)) is gone; removed")
        pushSubscriptions?.remove(id: subscription.id) { failure in
            if let failure { Log.error("notify", failure) }
        }
    }
}

/// One target's share of one ring: the request, its attempts, the timer before the next one.
@GLibActor
private final class TargetSend {
    let label: String
    let origin: String
    private let request: HTTPRequest
    var onDelivered: ((Notifier.Delivery) -> Void)?
    /// The target answered 404 or 410: what it was for no longer exists (a push subscription).
    var onGone: (() -> Void)?
    private var attempts = 0
    private var exchange: HTTPExchange?
    private var retryTimer: GLibTimer?
    private var cancelled = false

    init(label: String, url: String, request: HTTPRequest) {
        self.label = label
        self.origin = HTTPRequest.loggableOrigin(url)
        self.request = request
    }

    private var name: String { "\(label) \(origin)" }

    func attempt(session: HTTPSession, backoff: Backoff) {
        guard !cancelled else { return }
        attempts += 1
        exchange = session.post(request) { [weak self] result in self?.finished(result, session: session, backoff: backoff) }
    }

    func cancel() {
        cancelled = true
        retryTimer = nil
        exchange?.cancel()
        exchange = nil
    }

    private func finished(_ result: Result<Int, NotifyError>, session: HTTPSession, backoff: Backoff) {
        exchange = nil
        guard !cancelled else { return }
        switch result {
        case .success(let status):
            Log.info("notify", "\(name): delivered (HTTP \(status), attempt \(attempts))")
            onDelivered?(Notifier.Delivery(target: label, origin: origin, attempts: attempts, status: status))
        case .failure(let error) where error.code == .cancelled:
            break
        case .failure(let error) where error.isRetryable:
            let delay = backoff.delayMillis(afterAttempt: attempts)
            Log.warning("notify", "\(name): attempt \(attempts) failed (\(Self.redacted(error))); "
                        + "trying again in \(Double(delay) / 1000) s")
            retryTimer = GLibTimer(milliseconds: delay) { [weak self] in self?.attempt(session: session, backoff: backoff) }
        case .failure(let error) where onGone != nil && (error.status == 404 || error.status == 410):
            onGone?()
        case .failure(let error):
            Log.error("notify", "\(name): refused (\(Self.redacted(error))); not retrying: check its url, token and "
                      + "webhook_id in the config")
        }
    }

    /// libsoup's messages may quote the URI; keep only the words before any URL in them.
    static func redacted(_ error: NotifyError) -> String {
        var text = error.description
        for scheme in ["http://", "https://"] {
            while let range = text.firstRange(of: scheme) {
                let end = text[range.lowerBound...].firstIndex { $0 == " " || $0 == "'" || $0 == "\"" } ?? text.endIndex
                text.replaceSubrange(range.lowerBound..<end, with: "(url)")
            }
        }
        return text
    }
}
