import DoorCore
import MainLoop

/// What the device keeps for paired browsers (docs/pairing.md): the pairings on disk, the pairing
/// connections at the home ID, and the data links of the ring in progress. Device+Pairing.swift decides what
/// happens on them.
@GLibActor
final class PairedBrowsers {
    /// One pairing connection at the home ID (label `pair`), until it is done or times out.
    struct PairConnection {
        var link: DataLink
        /// Set once this connection paired: its `push` message goes to this pairing.
        var pairingID: String?
        var timer: GLibTimer?
    }

    /// What the current ring tells each paired browser.
    struct Ring {
        var door: String
        var code: String
        /// The whole join link, room secret included: sent only inside the proved ring message.
        var link: String
        var expiresAt: Int64
        var answered = false
    }

    /// A pairing connection is closed this long after it opened (enough to pair and send a push subscription).
    static let pairConnectionMillis: UInt32 = 30_000
    /// A ring link that opened but whose page said no `hello` this long after is closed. A page sends `hello`
    /// the moment it sees the link open (a phone on Wi-Fi: well under a second).
    static let helloTimeoutMillis: UInt32 = 3_000
    /// Silent ring links tried per pairing and ring before the door gives up on it (see `ringLinkSilent`).
    static let ringLinkAttempts = 3
    /// After `ring-over` the links stay this long so the message is delivered before the channel closes.
    static let ringOverLingerMillis: UInt32 = 1_000

    var store: PairingStore
    /// Which pair OFFERs are taken: only around an open pairing window, one per peer, a few at once.
    var gate = PairingGate()
    var pairConnections: [String: PairConnection] = [:]
    /// The current ring's links, by pairing id.
    var ringLinks: [String: DataLink] = [:]
    /// Per pairing id: closes its ring link if no `hello` came `helloTimeoutMillis` after it opened.
    var helloTimers: [String: GLibTimer] = [:]
    var ring: Ring?
    /// Links told `ring-over`, closed when this fires.
    var lingering: [DataLink] = []
    var lingerTimer: GLibTimer?
    /// The paired browsers that proved themselves in this ring: who may answer as household and join.
    var household = HouseholdRoster()

    init(stateDirectory: String) {
        store = PairingStore(stateDirectory: stateDirectory)
    }
}
