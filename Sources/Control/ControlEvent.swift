import DoorCore

/// One event on the control socket's event stream (`{"cmd":"events"}`), as the door publishes it. The events
/// are listed once here; docs/control-socket.md has a table of them and `ControlEventTests` checks that the two
/// agree, both ways.
public enum ControlEvent: Sendable, Equatable {
    case roomOpened(code: String, link: String)
    case roomReachable(code: String, door: String, peerId: String)
    case roomRang(code: String)
    case roomClosed(code: String)
    /// Every phase change; `peer`/`connectionId` name the call waiting to be let in, if any.
    case phase(String, peer: String?, connectionId: String?)
    /// A screen reached the sink `millis` after the event that caused it; `reason` is what an ended screen says.
    case screen(String, millis: Double, reason: String?)
    case refused(peer: String, reason: String)
    case callStarted(peer: String, connectionId: String)
    case callConnected(peer: String)
    case callEnded(by: String, at: Int64, reason: String?)
    case dtls(verified: Bool)
    case clockStamp(millis: Int64)
    case muted(Bool)
    case camera(off: Bool)
    /// The caller's chat (`from` "visitor"), or a `ctl connect` link's (`from` "peer", with its peer and
    /// connectionId).
    case chat(from: String, text: String, peer: String?, connectionId: String?)
    case data(peer: String, connectionId: String, value: JSONValue)
    case dataOpen(peer: String, connectionId: String)
    case dataClosed(peer: String, connectionId: String, reason: String?)
    case dataLost(peer: String, connectionId: String, label: String, silenceMillis: Int64)
    case homeRegistered(peerId: String)
    case dialing(peer: String, connectionId: String)
    case callAnswered(peer: String, connectionId: String)
    case callFailed(peer: String, connectionId: String, reason: String)
    case notified(target: String, origin: String, attempts: Int)
    case pairingOpen(link: String)
    case pairingClosed
    case pairingPush(id: String)
    case pairRefused(reason: String)
    case paired(id: String, name: String)
    case pairingRing(id: String, result: String)
    case pairingRingOver(reason: String, count: Int)
    case unpaired(id: String)
    case visit(id: String, state: String, durationMillis: Int64?)
    case visitClip(id: String, state: String, frames: Int?, bytes: Int64?)
    case visitsLink(result: String, id: String?)
    /// A paired page asked for a ring's picture by id: `sent`, `refused` (no valid hello), `notFound`, `badID`.
    case ringPicture(result: String, pairing: String?, picture: String?)
    /// A paired browser joined the household visit; `phones` on it now.
    case visitJoined(peer: String, name: String, phones: Int)
    /// A phone left the household visit while others stay on.
    case visitLeft(peer: String, name: String, phones: Int)

    /// The `event` field of each event, as the wire spells it.
    public enum Name: String, CaseIterable, Sendable {
        case roomOpened = "room-opened", roomReachable = "room-reachable", roomRang = "room-rang"
        case roomClosed = "room-closed", phase, screen, refused
        case callStarted = "call-started", callConnected = "call-connected", callEnded = "call-ended"
        case dtls, clockStamp = "clock-stamp", muted, camera, chat, data
        case dataOpen = "data-open", dataClosed = "data-closed", dataLost = "data-lost"
        case homeRegistered = "home-registered", dialing
        case callAnswered = "call-answered", callFailed = "call-failed", notified
        case pairingOpen = "pairing-open", pairingClosed = "pairing-closed", pairingPush = "pairing-push"
        case pairRefused = "pair-refused", paired, pairingRing = "pairing-ring"
        case pairingRingOver = "pairing-ring-over", unpaired
        case visit, visitClip = "visit-clip", visitsLink = "visits-link"
        case ringPicture = "ring-picture"
        case visitJoined = "visit-joined", visitLeft = "visit-left"
    }

    public var name: Name {
        switch self {
        case .roomOpened: .roomOpened
        case .roomReachable: .roomReachable
        case .roomRang: .roomRang
        case .roomClosed: .roomClosed
        case .phase: .phase
        case .screen: .screen
        case .refused: .refused
        case .callStarted: .callStarted
        case .callConnected: .callConnected
        case .callEnded: .callEnded
        case .dtls: .dtls
        case .clockStamp: .clockStamp
        case .muted: .muted
        case .camera: .camera
        case .chat: .chat
        case .data: .data
        case .dataOpen: .dataOpen
        case .dataClosed: .dataClosed
        case .dataLost: .dataLost
        case .homeRegistered: .homeRegistered
        case .dialing: .dialing
        case .callAnswered: .callAnswered
        case .callFailed: .callFailed
        case .notified: .notified
        case .pairingOpen: .pairingOpen
        case .pairingClosed: .pairingClosed
        case .pairingPush: .pairingPush
        case .pairRefused: .pairRefused
        case .paired: .paired
        case .pairingRing: .pairingRing
        case .pairingRingOver: .pairingRingOver
        case .unpaired: .unpaired
        case .visit: .visit
        case .visitClip: .visitClip
        case .visitsLink: .visitsLink
        case .ringPicture: .ringPicture
        case .visitJoined: .visitJoined
        case .visitLeft: .visitLeft
        }
    }

    /// The event's fields besides `event` (an optional field that is nil is left out, except `data-closed`'s
    /// `reason`, which is `null` when the door closed the link).
    public var fields: [String: JSONValue] {
        func s(_ text: String) -> JSONValue { .string(text) }
        func n(_ value: Int64) -> JSONValue { .number(Double(value)) }
        var fields: [String: JSONValue]
        switch self {
        case .roomOpened(let code, let link): fields = ["code": s(code), "link": s(link)]
        case .roomReachable(let code, let door, let peerId): fields = ["code": s(code), "door": s(door), "peerId": s(peerId)]
        case .roomRang(let code), .roomClosed(let code): fields = ["code": s(code)]
        case .phase(let phase, let peer, let connectionId):
            fields = ["phase": s(phase)]
            if let peer { fields["peer"] = s(peer) }
            if let connectionId { fields["connectionId"] = s(connectionId) }
        case .screen(let screen, let millis, let reason):
            fields = ["screen": s(screen), "millis": .number(millis)]
            if let reason { fields["reason"] = s(reason) }
        case .refused(let peer, let reason): fields = ["peer": s(peer), "reason": s(reason)]
        case .callStarted(let peer, let connectionId), .dialing(let peer, let connectionId),
             .callAnswered(let peer, let connectionId), .dataOpen(let peer, let connectionId):
            fields = ["peer": s(peer), "connectionId": s(connectionId)]
        case .callConnected(let peer): fields = ["peer": s(peer)]
        case .callEnded(let by, let at, let reason):
            fields = ["by": s(by), "at": n(at)]
            if let reason { fields["reason"] = s(reason) }
        case .dtls(let verified): fields = ["verified": .bool(verified)]
        case .clockStamp(let millis): fields = ["millis": n(millis)]
        case .muted(let muted): fields = ["muted": .bool(muted)]
        case .camera(let off): fields = ["off": .bool(off)]
        case .chat(let from, let text, let peer, let connectionId):
            fields = ["from": s(from), "text": s(text)]
            if let peer { fields["peer"] = s(peer) }
            if let connectionId { fields["connectionId"] = s(connectionId) }
        case .data(let peer, let connectionId, let value): fields = ["peer": s(peer), "connectionId": s(connectionId), "value": value]
        case .dataClosed(let peer, let connectionId, let reason):
            fields = ["peer": s(peer), "connectionId": s(connectionId), "reason": reason.map(JSONValue.string) ?? .null]
        case .dataLost(let peer, let connectionId, let label, let silenceMillis):
            fields = ["peer": s(peer), "connectionId": s(connectionId), "label": s(label),
                      "silenceMillis": n(silenceMillis)]
        case .homeRegistered(let peerId): fields = ["peerId": s(peerId)]
        case .callFailed(let peer, let connectionId, let reason):
            fields = ["peer": s(peer), "connectionId": s(connectionId), "reason": s(reason)]
        case .notified(let target, let origin, let attempts):
            fields = ["target": s(target), "origin": s(origin), "attempts": n(Int64(attempts))]
        case .pairingOpen(let link): fields = ["link": s(link)]
        case .pairingClosed: fields = [:]
        case .pairingPush(let id), .unpaired(let id): fields = ["id": s(id)]
        case .pairRefused(let reason): fields = ["reason": s(reason)]
        case .paired(let id, let name): fields = ["id": s(id), "name": s(name)]
        case .pairingRing(let id, let result): fields = ["id": s(id), "result": s(result)]
        case .pairingRingOver(let reason, let count): fields = ["reason": s(reason), "count": n(Int64(count))]
        case .visit(let id, let state, let durationMillis):
            fields = ["id": s(id), "state": s(state)]
            if let durationMillis { fields["durationMs"] = n(durationMillis) }
        case .visitClip(let id, let state, let frames, let bytes):
            fields = ["id": s(id), "state": s(state)]
            if let frames { fields["frames"] = n(Int64(frames)) }
            if let bytes { fields["bytes"] = n(bytes) }
        case .visitsLink(let result, let id):
            fields = ["result": s(result)]
            if let id { fields["id"] = s(id) }
        case .ringPicture(let result, let pairing, let picture):
            fields = ["result": s(result)]
            if let pairing { fields["pairing"] = s(pairing) }
            if let picture { fields["picture"] = s(picture) }
        case .visitJoined(let peer, let name, let phones), .visitLeft(let peer, let name, let phones):
            fields = ["peer": s(peer), "name": s(name), "phones": n(Int64(phones))]
        }
        return fields
    }

    /// The line the event stream carries: `{"event": name, …fields}`.
    public var json: JSONValue {
        var object = fields
        object["event"] = .string(name.rawValue)
        return .object(object)
    }
}
