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
    /// The last rings' pictures and the links that ask for them (KeptRingPictures.swift, Device+RingPicture.swift).
    let ringPictures = KeptRingPictures()

    /// Writes `pairings.json` off the loop, in order, the newest list winning (one writer per door).
    let writer = StateFileWriter { bytes, path in
        do { try PairingStore.write(bytes, to: path) } catch { return "cannot save pairings: \(error)" }
        return nil
    }
    /// The paired browsers that proved themselves in this ring: who may answer as household and join.
    var household = HouseholdRoster()

    init(stateDirectory: String) {
        store = PairingStore(stateDirectory: stateDirectory)
    }

    /// Adds `pairing` now and writes the list off the loop; `done` runs once it is written. If the write
    /// fails the pairing is taken out again (the file still holds the old list) and `done` gets why.
    func add(_ pairing: Pairing, done: @escaping StateFileWriter.Done) {
        save(store.adding(pairing)) { [weak self] failure in
            if failure != nil, let self { store.keep(store.pairings.filter { $0.id != pairing.id }) }
            done(failure)
        }
    }

    /// Replaces the pairing with `pairing.id` (its push subscription, when it was last seen) and writes the list;
    /// a failed write is logged (the change stays in memory and goes to disk with the next write).
    func update(_ pairing: Pairing) {
        guard let list = store.updating(pairing) else { return }
        save(list) { failure in
            if let failure { Log.error("pairing", failure) }
        }
    }

    /// Removes the pairing with `id` and writes the list; `done` once written. If the write fails the pairing
    /// is put back and `done` gets why.
    func remove(id: String, done: @escaping StateFileWriter.Done) {
        guard let gone = store.pairing(id: id) else { return done(nil) }
        save(store.pairings.filter { $0.id != id }) { [weak self] failure in
            if failure != nil, let self, store.pairing(id: id) == nil { store.keep(store.pairings + [gone]) }
            done(failure)
        }
    }

    private func save(_ list: [Pairing], done: @escaping StateFileWriter.Done) {
        store.keep(list)
        writer.write(PairingStore.encoded(list), to: store.path, done: done)
    }
}
