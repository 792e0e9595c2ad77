/// Which pairing connections (data OFFERs labelled `pair` to the home ID) the door takes: a value state machine
/// beside `CallStateMachine`, with no I/O and no clock. Events in, actions out; the device carries the actions
/// out on the `DataLink`s (Sources/Door/Device+Pairing.swift).
///
/// A pair offer is taken only while the pairing window is open, or for `lateMillis` after it closed, so a page
/// that read the QR in time hears "expired" or "used" instead of nothing. Outside that a stranger cannot hold a
/// pairing slot at all (issue 19, M2). Inside it each peer has one connection (its newer one replaces the
/// older) and at most `maxConnections` are held at once.
public struct PairingGate: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// Pairing connections held at once.
        public var maxConnections = 4
        /// After the window closed, offers are still taken this long (the page's own pairing timeout is 20 s).
        public var lateMillis: Int64 = 30_000
        public init() {}
    }

    public enum Event: Sendable, Equatable {
        /// The pairing window opened (`CallStateMachine` moved to `pairing`).
        case windowOpened
        /// The pairing window closed at this time (paired, declined, timed out, or the doorbell rang).
        case windowClosed(at: Int64)
        /// A pair OFFER from `peer` arrived at the home ID.
        case offer(peer: String, connectionId: String, at: Int64)
        /// A pairing connection closed, for whatever reason.
        case closed(connectionId: String)
    }

    public enum Refusal: String, Sendable, Equatable {
        /// No pairing window is open and none closed lately.
        case windowClosed = "no pairing window is open"
        /// `maxConnections` pairing connections are held already.
        case tooMany = "too many at once"
    }

    public enum Action: Sendable, Equatable {
        /// Take the OFFER: answer it and keep the connection.
        case accept(connectionId: String)
        /// Drop the OFFER with no answer.
        case refuse(connectionId: String, peer: String, Refusal)
        /// Close an earlier connection of the same peer (its newer offer replaces it).
        case close(connectionId: String)
    }

    public let settings: Settings
    public private(set) var windowOpen = false
    /// When the last window closed; nil if none was ever open.
    public private(set) var closedAt: Int64?
    /// The pairing connections held, connectionId → peer.
    public private(set) var connections: [String: String] = [:]

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Whether a pair OFFER arriving at `now` may be taken at all.
    public func takesOffers(at now: Int64) -> Bool {
        if windowOpen { return true }
        guard let closedAt else { return false }
        return now >= closedAt && now - closedAt <= settings.lateMillis
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .windowOpened:
            windowOpen = true
            return []
        case .windowClosed(let at):
            if windowOpen { closedAt = at }
            windowOpen = false
            return []
        case .closed(let connectionId):
            connections[connectionId] = nil
            return []
        case .offer(let peer, let connectionId, let at):
            guard takesOffers(at: at) else { return [.refuse(connectionId: connectionId, peer: peer, .windowClosed)] }
            var actions: [Action] = []
            for (older, owner) in connections.sorted(by: { $0.key < $1.key }) where owner == peer {
                connections[older] = nil
                actions.append(.close(connectionId: older))
            }
            guard connections.count < settings.maxConnections else {
                return actions + [.refuse(connectionId: connectionId, peer: peer, .tooMany)]
            }
            connections[connectionId] = peer
            return actions + [.accept(connectionId: connectionId)]
        }
    }
}
