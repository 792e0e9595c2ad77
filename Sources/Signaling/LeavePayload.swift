import DoorCore

/// The payload of a PeerJS LEAVE, the one place that builds and reads it (docs/signaling.md). Stock PeerJS sends
/// a LEAVE with no payload (the peer left: close everything with it); the door and its web page add a `reason`
/// (`declined`, `busy`, `cancelled`, …) and, for one call only, its `connectionId`. A LEAVE with reason
/// `hangup` and a connectionId is that call's hang-up said over signaling, and ends only that call.
public struct LeavePayload: Sendable, Equatable {
    public static let hangUpReason = "hangup"

    public var reason: String?
    public var connectionId: String?

    public init(reason: String?, connectionId: String?) {
        self.reason = reason
        self.connectionId = connectionId
    }

    /// Reads what a LEAVE carries; anything that is not a string is taken as absent (stock PeerJS sends none).
    public init(_ payload: JSONValue?) {
        reason = payload?["reason"]?.stringValue
        connectionId = payload?["connectionId"]?.stringValue
    }

    /// One call's hang-up: `reason` "hangup" and that call's connectionId.
    public static func hangUp(connectionId: String) -> LeavePayload {
        LeavePayload(reason: hangUpReason, connectionId: connectionId)
    }

    /// The connection this LEAVE hangs up, when it is one call's hang-up; nil for a LEAVE that means the peer
    /// left or refused (which ends everything with that peer).
    public var hungUpConnectionId: String? { reason == Self.hangUpReason ? connectionId : nil }

    /// Whether this LEAVE, from a peer, ends that peer's connection `connectionId`: a hang-up ends only the
    /// connection it names, any other LEAVE every connection with the peer. The one rule for rooms, the home ID
    /// and placed calls; an answered call it ends was hung up by the peer, whichever kind of LEAVE it was.
    public func ends(connectionId: String) -> Bool {
        guard let named = hungUpConnectionId else { return true }
        return named == connectionId
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = [:]
        if let reason { fields["reason"] = .string(reason) }
        if let connectionId { fields["connectionId"] = .string(connectionId) }
        return .object(fields)
    }
}

extension PeerJSMessage {
    /// A LEAVE to `peer`.
    public static func leave(to peer: String, _ payload: LeavePayload) -> PeerJSMessage {
        PeerJSMessage(type: .leave, dst: peer, payload: payload.json)
    }

    /// The LEAVE's payload; nil for other messages.
    public var leave: LeavePayload? { type == .leave ? LeavePayload(payload) : nil }
}
