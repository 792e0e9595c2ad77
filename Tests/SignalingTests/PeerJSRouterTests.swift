import DoorCore
import Signaling
import Testing

/// The one (peer, connectionId) router: every kind of message for a connection the owner knows and for one it
/// does not, the candidates it keeps for a connection that waits, and the one LEAVE rule.
@Suite struct PeerJSRouterTests {
    typealias Key = CallStateMachine.CallID
    typealias Router = PeerJSRouter<String>

    /// The owner's table: routes by key, and whether each is ready.
    struct Table {
        var routes: [Key: (name: String, ready: Bool)] = [:]

        func lookup(_ key: Key) -> Router.Lookup? {
            routes[key].map { $0.ready ? Router.Lookup.ready($0.name) : Router.Lookup.holding($0.name) }
        }

        func routesOf(_ peer: String) -> [(key: Key, route: String)] {
            routes.filter { $0.key.peer == peer }.map { (key: $0.key, route: $0.value.name) }.sorted { $0.route < $1.route }
        }
    }

    static let call = Key(peer: "page-1", connectionId: "mc_1")

    static func table() -> Table {
        var table = Table()
        table.routes[call] = ("call", true)
        table.routes[Key(peer: "page-1", connectionId: "dc_1")] = ("chat", true)
        table.routes[Key(peer: "page-2", connectionId: "mc_2")] = ("other", true)
        return table
    }

    static func sdp(_ type: String, _ connectionId: String, _ kind: ConnectionPayload.ConnectionType = .media) -> JSONValue {
        ConnectionPayload(sdp: SessionDescription(type: type, sdp: "v=0\r\n"), type: kind, connectionId: connectionId).json
    }

    static func candidate(_ n: Int, _ connectionId: String) -> JSONValue {
        CandidatePayload(candidate: "candidate:\(n) 1 udp 1 192.0.2.1 \(9000 + n) typ host", sdpMid: "0", sdpMLineIndex: 0,
                         type: .media, connectionId: connectionId).json
    }

    static func route(_ router: inout Router, _ table: Table, _ type: PeerJSMessage.Kind, from src: String?,
                      _ payload: JSONValue?) -> Router.Delivery {
        router.route(PeerJSMessage(type: type, src: src, dst: "door", payload: payload),
                     lookup: table.lookup, routesOf: table.routesOf)
    }

    @Test func anOfferCarriesTheRouteItsConnectionHasIfAny() {
        var router = Router()
        let table = Self.table()
        guard case .offer(let src, let payload, let known) = Self.route(&router, table, .offer, from: "page-3",
                                                                      Self.sdp("offer", "mc_3")) else {
            Issue.record("a new connection's OFFER is delivered as an offer")
            return
        }
        #expect(src == "page-3" && payload.connectionId == "mc_3" && known == nil)
        guard case .offer(_, _, let again) = Self.route(&router, table, .offer, from: "page-1", Self.sdp("offer", "mc_1")) else {
            Issue.record("a known connection's OFFER is delivered as an offer")
            return
        }
        #expect(again == "call")
        guard case .dropped = Self.route(&router, table, .offer, from: "page-3", ["sdp": "v=0"]) else {
            Issue.record("a malformed OFFER is dropped")
            return
        }
    }

    @Test func anAnswerGoesOnlyToAKnownConnection() {
        var router = Router()
        let table = Self.table()
        guard case .answer(let route, let payload, let key) = Self.route(&router, table, .answer, from: "page-1",
                                                                       Self.sdp("answer", "mc_1")) else {
            Issue.record("the known connection's ANSWER is delivered")
            return
        }
        #expect(route == "call" && payload.sdp.type == "answer" && key == Self.call)
        // The same peer, another connection; another peer, the same connectionId.
        for (src, connectionId) in [("page-1", "mc_9"), ("page-2", "mc_1")] {
            guard case .dropped = Self.route(&router, table, .answer, from: src, Self.sdp("answer", connectionId)) else {
                Issue.record("an ANSWER for unknown \(src)/\(connectionId) is dropped")
                continue
            }
        }
    }

    @Test func aCandidateGoesToAReadyConnectionAndIsDroppedForAnUnknownOne() {
        var router = Router()
        let table = Self.table()
        guard case .candidate(let route, let payload, _) = Self.route(&router, table, .candidate, from: "page-1",
                                                                    Self.candidate(1, "mc_1")) else {
            Issue.record("a candidate for a ready connection is delivered")
            return
        }
        #expect(route == "call" && payload.candidate.hasPrefix("candidate:1 "))
        guard case .dropped = Self.route(&router, table, .candidate, from: "page-1", Self.candidate(2, "mc_9")) else {
            Issue.record("a candidate for an unknown connection is dropped")
            return
        }
        #expect(router.holdingConnections == 0, "nothing is kept for a connection nobody knows")
    }

    @Test func candidatesForAWaitingConnectionAreKeptPerConnectionUpToTheLimitAndReleasedInOrder() {
        var router = Router()
        var table = Self.table()
        let waiting = Key(peer: "page-3", connectionId: "mc_3")
        let other = Key(peer: "page-3", connectionId: "dc_3")
        table.routes[waiting] = ("knock", false)
        table.routes[other] = ("held data", false)
        var kept = 0
        for n in 0..<(CandidateLimit.perConnection + 5) {
            if case .held(let key) = Self.route(&router, table, .candidate, from: "page-3", Self.candidate(n, "mc_3")) {
                #expect(key == waiting)
                kept += 1
            }
        }
        #expect(kept == CandidateLimit.perConnection, "one buffer per connection, with the one limit")
        guard case .held = Self.route(&router, table, .candidate, from: "page-3", Self.candidate(1, "dc_3")) else {
            Issue.record("another connection of the same peer has a buffer of its own")
            return
        }
        #expect(router.heldCount(other) == 1)
        let released = router.release(waiting)
        #expect(released.map(\.candidate) == (0..<CandidateLimit.perConnection).map { "candidate:\($0) 1 udp 1 192.0.2.1 \(9000 + $0) typ host" })
        #expect(router.release(waiting).isEmpty, "released once")
        #expect(router.heldCount(other) == 1)
        router.forget(peer: "page-3")
        #expect(router.holdingConnections == 0)
    }

    @Test func aForgottenConnectionKeepsNothing() {
        var router = Router()
        var table = Self.table()
        let waiting = Key(peer: "page-3", connectionId: "mc_3")
        table.routes[waiting] = ("knock", false)
        _ = Self.route(&router, table, .candidate, from: "page-3", Self.candidate(1, "mc_3"))
        router.forget(waiting)
        #expect(router.release(waiting).isEmpty)
    }

    /// The one LEAVE rule: a hang-up ends the connection it names, any other LEAVE every connection with its sender.
    @Test func aHangUpLeaveEndsItsConnectionAndAnyOtherLeaveEveryConnectionOfThePeer() {
        var router = Router()
        let table = Self.table()
        guard case .leave(let src, let leave, let ends) = Self.route(&router, table, .leave, from: "page-1",
                                                                   LeavePayload.hangUp(connectionId: "mc_1").json) else {
            Issue.record("a LEAVE is delivered as a leave")
            return
        }
        #expect(src == "page-1" && leave.hungUpConnectionId == "mc_1")
        #expect(ends.map(\.route) == ["call"], "the chat of the same peer goes on")
        for payload: JSONValue? in [nil, ["reason": "declined", "connectionId": "mc_1"], ["reason": "left"]] {
            guard case .leave(_, _, let all) = Self.route(&router, table, .leave, from: "page-1", payload) else {
                Issue.record("a LEAVE is delivered as a leave")
                continue
            }
            #expect(all.map(\.route) == ["call", "chat"], "\(String(describing: payload)) ends every connection of page-1")
        }
        guard case .leave(_, _, let none) = Self.route(&router, table, .leave, from: "page-9", nil) else {
            Issue.record("a stranger's LEAVE is delivered as a leave")
            return
        }
        #expect(none.isEmpty, "a stranger's LEAVE ends nothing")
    }

    @Test func anExpireConcernsEveryConnectionOfThePeerAndNobodyElse() {
        var router = Router()
        let table = Self.table()
        guard case .expire(let src, let routes) = Self.route(&router, table, .expire, from: "page-1", nil) else {
            Issue.record("an EXPIRE is delivered as an expire")
            return
        }
        #expect(src == "page-1" && routes.map(\.route) == ["call", "chat"])
        guard case .expire(_, let none) = Self.route(&router, table, .expire, from: "page-9", nil) else {
            Issue.record("an EXPIRE is delivered as an expire")
            return
        }
        #expect(none.isEmpty)
    }

    @Test func messagesWithoutASenderOrOfOtherTypesAreDropped() {
        var router = Router()
        let table = Self.table()
        let cases: [(PeerJSMessage.Kind, String?)] = [(.candidate, nil), (.leave, ""), (.heartbeat, "page-1"), (.open, "page-1")]
        for (type, src) in cases {
            guard case .dropped = Self.route(&router, table, type, from: src, Self.candidate(1, "mc_1")) else {
                Issue.record("\(type.rawValue) from \(src ?? "nil") is dropped")
                continue
            }
        }
    }
}
