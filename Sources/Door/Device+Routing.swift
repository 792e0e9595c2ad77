import Admission
import DoorCore
import MainLoop
import Signaling

/// What one (peer, connectionId) is to the door: the route `PeerJSRouter` delivers its messages along.
enum DoorRoute {
    /// A media call in the `CallTable` that reached a room (answered, or its OFFER waiting).
    case call
    /// A media call the door placed through its home ID.
    case dial
    /// A caller's data connection (chat), through a room or, for a placed call, the home ID.
    case chat(DataLink)
    /// A data OFFER held while its peer's call waits to be let in (`HeldDataOffer`).
    case heldData
    /// A data link through the home ID (pairing, ring, visits, `ctl connect`).
    case link(DataLink)
}

/// Signaling routing, for the room's two IDs and the home ID alike: `PeerJSRouter` reads each message and finds
/// its connection in the door's records (the call table, the chats, the held data offers, the home's links);
/// the two `switch`es here say what each delivery does (docs/architecture.md#where-to-look-for-).
extension Device {
    // MARK: - The room's two IDs

    /// What reaches the room's registrations, after `SignalingLimits` (`admit`).
    func route(_ message: PeerJSMessage, door: RoomGate.Door) {
        switch rooms.router.route(message, lookup: { roomLookup($0) }, routesOf: { roomRoutes($0) }) {
        case .offer(let src, let payload, _):
            guard payload.type == .media else { return acceptData(payload, from: src, door: door) }
            admitCall(payload, from: src, door: door)
        case .answer(_, _, let key):
            Log.debug("intercom", "dropped an ANSWER from \(key.peer): a room's callers make the offers")
        case .candidate(let route, let payload, let key):
            switch route {
            case .call, .dial: calls.session(key)?.addRemoteCandidate(mline: payload.sdpMLineIndex, candidate: payload.candidate)
            case .chat(let link), .link(let link): link.addRemoteCandidate(payload)
            case .heldData: break
            }
        case .held:
            break
        case .leave(_, let leave, let ends):
            // A call a LEAVE ends was hung up by the peer, whichever kind of LEAVE it was.
            for (call, _) in ends {
                if let session = calls.session(call) {
                    session.peerHungUp("said so over signaling (LEAVE" + (leave.reason.map { ", \($0))" } ?? ")"))
                } else if machine.phase.pending?.call == call {
                    handle(.callEnded(call, .remote))
                }
            }
        case .expire(let src, _):
            Log.info("intercom", "peer \(src) is not reachable (EXPIRE)")
        case .dropped(let why):
            Log.debug("intercom", "dropped \(why)")
        }
    }

    /// The room's routes: a call with its session, a chat, then what waits (a held data offer, a call's OFFER).
    private func roomLookup(_ key: CallID) -> PeerJSRouter<DoorRoute>.Lookup? {
        if calls.session(key) != nil { return .ready(.call) }
        if let link = chats[key] { return .ready(.chat(link)) }
        if heldData[key] != nil { return .holding(.heldData) }
        if calls[key]?.offer != nil { return .holding(.call) }
        return nil
    }

    /// The calls a LEAVE or an EXPIRE from `peer` may end: those with a session or an OFFER waiting.
    private func roomRoutes(_ peer: String) -> [(key: CallID, route: DoorRoute)] {
        var keys = calls.records.values.filter { $0.call.peer == peer && ($0.session != nil || $0.offer != nil) }.map(\.call)
        if let pending = machine.phase.pending?.call, pending.peer == peer, !keys.contains(pending) { keys.append(pending) }
        return keys.map { (key: $0, route: DoorRoute.call) }
    }

    // MARK: - The home ID

    /// What reaches the home ID, after its `SignalingLimits`: its data links, the placed calls and their chat.
    func routeHome(_ message: PeerJSMessage) {
        guard let home else { return }
        home.sweep()
        switch home.router.route(message, lookup: { homeLookup($0) }, routesOf: { homeRoutes($0) }) {
        case .offer(let src, let payload, _):
            guard payload.type == .data else {
                return Log.debug("intercom", "home ID: dropped a media OFFER from \(src) (the home ID takes no calls)")
            }
            // The chat of a call the door placed: the page opens it to the ID that called it.
            if calls.dials.contains(where: { $0.call.peer == src }) { return acceptData(payload, from: src, door: .room) }
            home.takeDataOffer(payload, from: src)
        case .answer(let route, let payload, let key):
            switch route {
            case .link(let link) where payload.type == .data && link.direction == .outgoing:
                link.receivedAnswer(payload)
            case .dial where payload.type == .media && payload.sdp.type == "answer":
                guard let record = calls[key], let attempt = record.dial, !attempt.isAnswered, record.session != nil else {
                    return Log.debug("intercom", "home ID: dropped an ANSWER for \(key): not waiting for one")
                }
                dialEvent(.answer(sdp: payload.sdp.sdp), key)
            default:
                Log.debug("intercom", "home ID: dropped an ANSWER from \(key.peer) for \(key.connectionId)")
            }
        case .candidate(let route, let payload, let key):
            switch route {
            case .link(let link) where payload.type == .data:
                link.addRemoteCandidate(payload)
            case .chat(let link) where payload.type == .data:
                link.addRemoteCandidate(payload)
            case .dial where payload.type == .media:
                calls.session(key)?.addRemoteCandidate(mline: payload.sdpMLineIndex, candidate: payload.candidate)
            default:
                Log.debug("intercom", "home ID: dropped a CANDIDATE for \(key)")
            }
        case .held:
            break
        case .leave(let src, let leave, let ends):
            let why = leave.reason ?? "left"
            for (key, route) in ends {
                switch route {
                case .link(let link):
                    link.end(because: why)
                case .dial:
                    guard leave.hungUpConnectionId == nil else {
                        dialEvent(.peerHungUp, key)
                        continue
                    }
                    if calls[key]?.dial?.isAnswered == false {
                        Log.info("intercom", "the call to \(src) (\(key.connectionId)): the peer said \(why) (LEAVE)")
                    }
                    dialEvent(.peerGone(reason: why), key)
                default:
                    break
                }
            }
        case .expire(let src, let routes):
            // `src` is not registered: links not open yet cannot open (open ones run peer to peer and go on), and
            // a placed call cannot be answered.
            for (key, route) in routes {
                switch route {
                case .link(let link) where link.direction == .outgoing && !link.isOpen:
                    Log.info("intercom", "data connection to \(src) (\(key.connectionId)): the peer is offline (EXPIRE)")
                    link.end(because: "offline")
                case .dial:
                    if calls[key]?.dial?.isAnswered == false {
                        Log.info("intercom", "the call to \(src) (\(key.connectionId)): the peer is not reachable (EXPIRE)")
                    }
                    dialEvent(.peerGone(reason: "offline"), key)
                default:
                    break
                }
            }
        case .dropped(let why):
            Log.debug("intercom", "home ID: dropped \(why)")
        }
    }

    /// The home ID's routes: its data links, the chat of a placed call, the placed calls.
    private func homeLookup(_ key: CallID) -> PeerJSRouter<DoorRoute>.Lookup? {
        if let link = home?.links[key] { return .ready(.link(link)) }
        if let link = chats[key] { return .ready(.chat(link)) }
        if calls[key]?.dial != nil { return .ready(.dial) }
        return nil
    }

    /// What a LEAVE or an EXPIRE from `peer` to the home ID may end: its links and the calls placed to it.
    private func homeRoutes(_ peer: String) -> [(key: CallID, route: DoorRoute)] {
        let links = (home?.links ?? [:]).filter { $0.key.peer == peer }.map { (key: $0.key, route: DoorRoute.link($0.value)) }
        return links + calls.dials.filter { $0.call.peer == peer }.map { (key: $0.call, route: DoorRoute.dial) }
    }
}
