import Admission
import DoorCore
import Testing

/// `RoomGate`: what reaches the door's room, decided with no I/O (docs/security.md#who-gets-in).
@Suite struct RoomGateTests {
    typealias CallID = CallStateMachine.CallID
    static let secret = RoomSecret(bytes: Array(0..<16))!
    static let link = RoomLink(webBase: "http://door.local:8080", code: "12345", secret: secret)
    static let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 AA:BB\r\n"

    func gate(_ configure: (inout RoomGate.Limits) -> Void = { _ in }) -> RoomGate {
        var limits = RoomGate.Limits()
        configure(&limits)
        return RoomGate(link: Self.link, prefix: "intercom-", limits: limits)
    }

    /// An offer from `peer`; `proved`: with a join proof over this offer (the page's `room-proof.js` does the same).
    func offer(_ gate: RoomGate, from peer: String, _ connectionId: String, to door: RoomGate.Door = .room,
               proved: Bool, nonce: String = "AAECAwQFBgcICQoL", metadata: JSONValue? = nil) -> JoinOffer {
        let call = CallID(peer: peer, connectionId: connectionId)
        let to = door == .room ? gate.roomPeerID : gate.knockPeerID
        guard proved else { return JoinOffer(call: call, addressedTo: to, sdp: Self.sdp, metadata: metadata) }
        let binding = JoinMAC.Binding(roomPeerID: gate.roomPeerID, callerPeerID: peer, connectionId: connectionId, nonce: nonce)
        let mac = JoinMAC.offerMAC(RoomKeys(secret: Self.secret), binding, offerSDP: Self.sdp)
        return JoinOffer(call: call, addressedTo: to, sdp: Self.sdp,
                         metadata: ["client": "intercom-web", "proof": JoinMAC.offerProof(nonce: nonce, mac: mac)])
    }

    @Test func theTwoPeerIDsAreTheDerivedOneAndThePrefixedCode() {
        let g = gate()
        #expect(g.knockPeerID == "intercom-12345")
        #expect(g.roomPeerID == RoomKeys(secret: Self.secret).roomPeerID(prefix: "intercom-"))
        #expect(g.door(of: g.roomPeerID) == .room)
        #expect(g.door(of: g.knockPeerID) == .knock)
        #expect(g.door(of: "intercom-54321") == nil)
    }

    @Test func aProofIsProvedAndAnsweredWithAMACOnlyThen() {
        var g = gate()
        let proved = offer(g, from: "page-1", "mc_1", proved: true)
        #expect(g.admit(proved, now: 0) == .proved)
        #expect(g.answerProof(call: proved.call, offerSDP: Self.sdp, answerSDP: "v=0\r\nanswer\r\n") != nil)
        let knock = offer(g, from: "page-2", "mc_2", proved: false)
        #expect(g.admit(knock, now: 0) == .knock)
        #expect(g.answerProof(call: knock.call, offerSDP: Self.sdp, answerSDP: "v=0\r\nanswer\r\n") == nil)
        #expect(g.counts == ["proved": 1, "knock": 1])
        #expect(g.dropped == 0)
    }

    @Test func aProofSentToTheKnockIDOrReplayedIsDropped() {
        var g = gate()
        #expect(g.admit(offer(g, from: "page-1", "mc_1", to: .knock, proved: true), now: 0) == .drop(reason: "bad proof"))
        #expect(g.admit(offer(g, from: "page-1", "mc_2", proved: true, nonce: "AQECAwQFBgcICQoL"), now: 0) == .proved)
        #expect(g.admit(offer(g, from: "page-1", "mc_2", proved: true, nonce: "AQECAwQFBgcICQoL"), now: 1) == .drop(reason: "bad proof"))
        #expect(g.dropped == 2)
    }

    @Test func anOfferToAnotherIDIsNotThisRooms() {
        var g = gate()
        let stray = JoinOffer(call: CallID(peer: "p", connectionId: "mc_1"), addressedTo: "intercom-99999", sdp: Self.sdp, metadata: nil)
        #expect(g.admit(stray, now: 0) == .drop(reason: "not addressed to this room"))
    }

    @Test func oversizedSDPOrMetadataIsDroppedBeforeAnyMAC() {
        var g = gate { $0.maxSDPBytes = 64; $0.maxMetadataBytes = 32 }
        let big = JoinOffer(call: CallID(peer: "p", connectionId: "mc_1"), addressedTo: g.roomPeerID,
                            sdp: String(repeating: "a", count: 65), metadata: nil)
        #expect(g.admit(big, now: 0) == .drop(reason: "oversized"))
        let wordy = offer(g, from: "p", "mc_2", proved: false, metadata: ["name": .string(String(repeating: "x", count: 40))])
        #expect(g.admit(wordy, now: 0) == .drop(reason: "oversized"))
        // Deeper than four levels counts as too big whatever its length.
        let deep: JSONValue = ["a": ["b": ["c": ["d": ["e": ["f": 1]]]]]]
        var roomy = gate { $0.maxMetadataBytes = 10_000 }
        #expect(roomy.admit(offer(roomy, from: "p", "mc_3", proved: false, metadata: deep), now: 0) == .drop(reason: "oversized"))
    }

    @Test func onePeerIsLimitedPerWindowOthersAreNot() {
        var g = gate { $0.offersPerPeer = 2; $0.peerWindowMillis = 1_000 }
        #expect(g.admit(offer(g, from: "a", "mc_1", to: .knock, proved: false), now: 0) == .knock)
        #expect(g.admit(offer(g, from: "a", "mc_2", to: .knock, proved: false), now: 10) == .knock)
        #expect(g.admit(offer(g, from: "a", "mc_3", to: .knock, proved: false), now: 20) == .drop(reason: "rate-limited"))
        #expect(g.admit(offer(g, from: "b", "mc_4", to: .knock, proved: false), now: 20) == .knock)
        // The window passes: the peer may knock again.
        #expect(g.admit(offer(g, from: "a", "mc_5", to: .knock, proved: false), now: 1_500) == .knock)
    }

    @Test func knocksAreLimitedPerMinuteButProvedCallersStillGetIn() {
        var g = gate { $0.knocks.total = 2 }
        #expect(g.admit(offer(g, from: "a", "mc_1", to: .knock, proved: false), now: 0) == .knock)
        #expect(g.admit(offer(g, from: "b", "mc_2", to: .knock, proved: false), now: 0) == .knock)
        #expect(g.admit(offer(g, from: "c", "mc_3", to: .knock, proved: false), now: 0) == .knockLimited)
        #expect(g.admit(offer(g, from: "d", "mc_4", proved: true), now: 0) == .proved)
        #expect(g.admit(offer(g, from: "c", "mc_5", to: .knock, proved: false), now: 60_001) == .knock)
        #expect(g.counts == ["knock": 3, "knock-limited": 1, "proved": 1])
    }

    @Test func offersToTheRoomIDAreLimitedAltogether() {
        var g = gate { $0.roomOffersPerMinute = 1 }
        #expect(g.admit(offer(g, from: "a", "mc_1", proved: true), now: 0) == .proved)
        #expect(g.admit(offer(g, from: "b", "mc_2", proved: true, nonce: "AgECAwQFBgcICQoL"), now: 0) == .drop(reason: "rate-limited"))
    }
}
