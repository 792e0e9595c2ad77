import DoorCore

/// The one place that routes what reaches a registration by (peer, connectionId) (docs/signaling.md), the
/// door's counterpart of the web page's `PeerJSWire.route`: it reads each OFFER, ANSWER, CANDIDATE, LEAVE and
/// EXPIRE once, finds the connection it is about, and says where it goes as a `Delivery`. The owner's own
/// records are the route table: `lookup` names the route of a connection it knows, `routesOf` every route it
/// has with one peer.
///
/// Rules, for rooms, the home ID and placed calls alike:
/// - an OFFER is delivered with the route its connection already has, if any (the owner decides; PeerJS has
///   no renegotiation, so a known connectionId is a replacement);
/// - an ANSWER or a CANDIDATE goes only to a connection the owner knows; anything else is dropped;
/// - a CANDIDATE for a connection whose handler does not exist yet (`Lookup.holding`: an OFFER that waits for
///   a person, a data OFFER that waits for its call) is kept here, in one `CandidateBuffer` per connection,
///   until the owner takes them with `release`;
/// - a LEAVE ends what `LeavePayload.ends` says (a hang-up the one connection it names, any other LEAVE every
///   connection with the peer); an EXPIRE concerns every connection with the peer.
///
/// Pure: no I/O, no clock, no loop.
public struct PeerJSRouter<Route> {
    /// (peer, connectionId): the key the door keeps its calls and data links by.
    public typealias Key = CallStateMachine.CallID

    /// What the owner knows of one connection.
    public enum Lookup {
        /// Its handler exists: messages go straight to it.
        case ready(Route)
        /// Known, but whatever applies candidates is not made yet: they are kept until `release`.
        case holding(Route)
    }

    /// Where one message goes.
    public enum Delivery {
        /// An OFFER: `known` is the route its connection already has (nil for a new connection).
        case offer(src: String, ConnectionPayload, known: Route?)
        case answer(Route, ConnectionPayload, Key)
        case candidate(Route, CandidatePayload, Key)
        /// A candidate kept for a connection that is `holding`.
        case held(Key)
        /// A LEAVE from `src`, with the routes it ends under the one LEAVE rule.
        case leave(src: String, LeavePayload, ends: [(key: Key, route: Route)])
        /// An EXPIRE: the server could not deliver to `src`; every route with that peer.
        case expire(src: String, routes: [(key: Key, route: Route)])
        /// Nothing to deliver: why, for a debug line.
        case dropped(String)
    }

    /// Connections with candidates kept at once; past this, candidates for a new one are dropped.
    public static var maxHoldingConnections: Int { 64 }

    private var held: [Key: CandidateBuffer<CandidatePayload>] = [:]

    public init() {}

    /// Reads `message` and says where it goes. `lookup` is asked about the message's connection, `routesOf`
    /// (LEAVE and EXPIRE) for every route with its sender.
    public mutating func route(_ message: PeerJSMessage, lookup: (Key) -> Lookup?,
                               routesOf: (String) -> [(key: Key, route: Route)]) -> Delivery {
        guard let src = message.src, !src.isEmpty else { return .dropped("\(message.type.rawValue) without src") }
        switch message.type {
        case .offer:
            let payload: ConnectionPayload
            do { payload = try ConnectionPayload(message.payload) } catch { return .dropped("an OFFER from \(src): \(error)") }
            return .offer(src: src, payload, known: lookup(Key(peer: src, connectionId: payload.connectionId)).map(\.route))
        case .answer:
            let payload: ConnectionPayload
            do { payload = try ConnectionPayload(message.payload) } catch { return .dropped("an ANSWER from \(src): \(error)") }
            let key = Key(peer: src, connectionId: payload.connectionId)
            guard let found = lookup(key) else { return .dropped("an ANSWER for unknown \(src)/\(payload.connectionId)") }
            return .answer(found.route, payload, key)
        case .candidate:
            let payload: CandidatePayload
            do { payload = try CandidatePayload(message.payload) } catch { return .dropped("a CANDIDATE from \(src): \(error)") }
            let key = Key(peer: src, connectionId: payload.connectionId)
            switch lookup(key) {
            case .ready(let route)?:
                return .candidate(route, payload, key)
            case .holding?:
                guard held[key] != nil || held.count < Self.maxHoldingConnections else {
                    return .dropped("a CANDIDATE for \(src)/\(payload.connectionId): too many connections hold candidates")
                }
                guard held[key, default: CandidateBuffer()].hold(payload) else {
                    return .dropped("a CANDIDATE for \(src)/\(payload.connectionId): its buffer is full")
                }
                return .held(key)
            case nil:
                return .dropped("a CANDIDATE for unknown \(src)/\(payload.connectionId)")
            }
        case .leave:
            let leave = LeavePayload(message.payload)
            return .leave(src: src, leave, ends: routesOf(src).filter { leave.ends(connectionId: $0.key.connectionId) })
        case .expire:
            return .expire(src: src, routes: routesOf(src))
        default:
            return .dropped("\(message.type.rawValue) from \(src)")
        }
    }

    /// The candidates kept for `key`, oldest first, to hand to the handler just made; kept no longer.
    public mutating func release(_ key: Key) -> [CandidatePayload] {
        held.removeValue(forKey: key)?.held ?? []
    }

    /// Drops what is kept for `key` (its OFFER was refused or ignored).
    public mutating func forget(_ key: Key) { held[key] = nil }

    /// Drops what is kept for every connection of `peer`, or of everyone when nil (the room closed).
    public mutating func forget(peer: String?) {
        guard let peer else { return held.removeAll() }
        held = held.filter { $0.key.peer != peer }
    }

    /// How many candidates are kept for `key`.
    public func heldCount(_ key: Key) -> Int { held[key]?.count ?? 0 }

    /// Connections with candidates kept.
    public var holdingConnections: Int { held.count }
}

extension PeerJSRouter.Lookup {
    public var route: Route {
        switch self {
        case .ready(let route), .holding(let route): route
        }
    }
}

extension PeerJSRouter.Delivery: Sendable where Route: Sendable {}
extension PeerJSRouter.Lookup: Sendable where Route: Sendable {}
