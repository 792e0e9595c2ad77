import Intercom
import MainLoop

/// Tells every configured target about a ring, each on its own: a slow or failing target delays no other and
/// never the screen (the requests run on the loop, asynchronously). Failures worth retrying are retried with
/// `Backoff` until the target takes it or the room closes (`cancelAll`). Log lines name a target by its kind
/// and host only — never the join link, an ntfy topic or a webhook ID.
@GLibActor
public final class Notifier {
    /// A target took the ring.
    public struct Delivery: Sendable, Equatable {
        public var kind: Configuration.NotifyTarget.Kind
        /// Scheme and host (`HTTPRequest.loggableOrigin`).
        public var origin: String
        public var attempts: Int
        public var status: Int
    }

    public var onDelivered: ((Delivery) -> Void)?
    public let targets: [Configuration.NotifyTarget]
    private let session: HTTPSession
    private let backoff: Backoff
    private var sends: [TargetSend] = []

    public init(_ configuration: Configuration.Notify, backoff: Backoff = Backoff()) throws(NotifyError) {
        targets = configuration.targets
        session = try HTTPSession(caFile: configuration.caFile)
        self.backoff = backoff
        for target in targets where target.url.hasPrefix("http://") {
            Log.warning("notify", "\(target.kind.rawValue) \(HTTPRequest.loggableOrigin(target.url)) is plain HTTP: "
                        + "anyone on that network path can read the join link; use https://")
        }
    }

    /// Sends `ring` to every target. Sends still retrying for an earlier ring are withdrawn first.
    public func ring(_ ring: RingNotice) {
        cancelAll()
        sends = targets.map { target in
            TargetSend(target: target, request: HTTPRequest(ring: ring, target: target), session: session,
                       backoff: backoff) { [weak self] delivery in self?.onDelivered?(delivery) }
        }
        sends.forEach { $0.attempt() }
    }

    /// Stops every retry and withdraws requests in flight (the room closed: the link is dead anyway).
    public func cancelAll() {
        sends.forEach { $0.cancel() }
        sends = []
    }
}

/// One target's share of one ring: the request, its attempts, the timer before the next one.
@GLibActor
private final class TargetSend {
    private let target: Configuration.NotifyTarget
    private let request: HTTPRequest
    private let session: HTTPSession
    private let backoff: Backoff
    private let onDelivered: (Notifier.Delivery) -> Void
    private var attempts = 0
    private var exchange: HTTPExchange?
    private var retryTimer: GLibTimer?
    private var cancelled = false

    init(target: Configuration.NotifyTarget, request: HTTPRequest, session: HTTPSession, backoff: Backoff,
         onDelivered: @escaping (Notifier.Delivery) -> Void) {
        self.target = target
        self.request = request
        self.session = session
        self.backoff = backoff
        self.onDelivered = onDelivered
    }

    private var name: String { "\(target.kind.rawValue) \(HTTPRequest.loggableOrigin(target.url))" }

    func attempt() {
        guard !cancelled else { return }
        attempts += 1
        exchange = session.post(request) { [weak self] result in self?.finished(result) }
    }

    func cancel() {
        cancelled = true
        retryTimer = nil
        exchange?.cancel()
        exchange = nil
    }

    private func finished(_ result: Result<Int, NotifyError>) {
        exchange = nil
        guard !cancelled else { return }
        switch result {
        case .success(let status):
            Log.info("notify", "\(name): delivered (HTTP \(status), attempt \(attempts))")
            onDelivered(Notifier.Delivery(kind: target.kind, origin: HTTPRequest.loggableOrigin(target.url),
                                          attempts: attempts, status: status))
        case .failure(let error) where error.code == .cancelled:
            break
        case .failure(let error) where error.isRetryable:
            let delay = backoff.delayMillis(afterAttempt: attempts)
            Log.warning("notify", "\(name): attempt \(attempts) failed (\(Self.redacted(error))); "
                        + "trying again in \(Double(delay) / 1000) s")
            retryTimer = GLibTimer(milliseconds: delay) { [weak self] in self?.attempt() }
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
