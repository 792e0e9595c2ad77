import DoorCore
import MainLoop

/// The door's side of keepalives on a data-only link (docs/data-link-liveness.md). The project's page sends
/// `{"t":"keepalive"}` about every second on the data links it holds with the door; the door answers each
/// with `{"t":"keepalive-ack"}` (the page's own silence timer feeds on it) and, from the first one on,
/// watches the link with a `LinkWatch`: silent for the limit, the link is closed as "lost". The door never
/// sends a keepalive of its own, so a stock PeerJS peer sees none and is never watched.
@GLibActor
final class LinkKeepalive {
    /// How one door watches its links: every `DataLink` of a `Device` gets the door's own (`DataLinkParts`), so
    /// two doors in one process (tests) each keep their limit and hear of their own lost links.
    struct Policy {
        /// `media.lost_after_seconds`, the same silence that ends a call.
        var limitMillis: Int64 = 5000
        /// Told about every link found lost (the door publishes a `data-lost` event), once per link.
        var onLost: (@GLibActor (_ peer: String, _ connectionId: String, _ label: String, _ silenceMillis: Int64) -> Void)?
    }

    static let ack: JSONValue = ["t": "keepalive-ack"]

    static func isKeepalive(_ value: JSONValue?) -> Bool { value?["t"]?.stringValue == "keepalive" }

    private var watch: LinkWatch
    private var timer: GLibTimer?
    private let lost: @GLibActor (_ silenceMillis: Int64) -> Void

    /// `lost` runs once, when the watched peer has been silent for `limitMillis`.
    init(limitMillis: Int64, lost: @escaping @GLibActor (_ silenceMillis: Int64) -> Void) {
        watch = LinkWatch(limitMillis: limitMillis)
        self.lost = lost
    }

    /// The peer has sent a keepalive: the link is watched.
    var isArmed: Bool { watch.isArmed }

    /// A message arrived (`value` nil when it has no JSON form); true when it was a keepalive, which the
    /// caller answers with `ack` and does not pass on.
    func heard(_ value: JSONValue?) -> Bool {
        let keepalive = Self.isKeepalive(value)
        watch.heard(at: monotonicMillis(), keepalive: keepalive)
        if keepalive, timer == nil {
            timer = GLibTimer(milliseconds: UInt32(LinkWatch.checkEveryMillis), repeating: true) { [weak self] in
                self?.check()
            }
        }
        return keepalive
    }

    /// The link is over: no more checks.
    func stop() { timer = nil }

    private func check() {
        guard case .lost(let silence) = watch.check(at: monotonicMillis()) else { return }
        timer = nil
        lost(silence)
    }
}
