import DoorCore
import Testing
@testable import Signaling

/// The built-in server must behave like the official PeerServer (docs/signaling.md#the-built-in-server).
@Suite struct PeerServerCoreTests {
    typealias Core = PeerServerCore<Int>

    @Test func registersAndSaysOpen() {
        var core = Core()
        #expect(core.connect(1, key: "peerjs", id: "door", token: "t1", now: 0) ==
                [.send(1, PeerJSMessage(type: .open))])
        #expect(core.registeredIDs == ["door"])
    }

    @Test func refusesMissingParametersAndWrongKey() {
        var core = Core()
        let missing = core.connect(1, key: "peerjs", id: nil, token: "t", now: 0)
        #expect(missing == [.send(1, PeerJSMessage(type: .error, payload: ["msg": "No id, token, or key supplied to websocket server"])),
                            .close(1)])
        let wrongKey = core.connect(2, key: "nope", id: "a", token: "t", now: 0)
        #expect(wrongKey.first == .send(2, PeerJSMessage(type: .error, payload: ["msg": "Invalid key provided"])))
        #expect(core.registeredIDs.isEmpty)
    }

    @Test func sameTokenReattachesSilentlyAndOtherTokenIsTaken() {
        var core = Core()
        _ = core.connect(1, key: "peerjs", id: "door", token: "t1", now: 0)
        #expect(core.connect(2, key: "peerjs", id: "door", token: "t1", now: 10) == [.close(1)])
        #expect(core.connect(3, key: "peerjs", id: "door", token: "other", now: 20) ==
                [.send(3, PeerJSMessage(type: .idTaken, payload: ["msg": "ID is taken"])), .close(3)])
        // The re-attached socket now receives what is sent to the ID.
        _ = core.connect(4, key: "peerjs", id: "page", token: "p", now: 30)
        let offer = PeerJSMessage(type: .offer, dst: "door", payload: ["x": 1])
        #expect(core.receive(offer, from: 4, now: 40) ==
                [.send(2, PeerJSMessage(type: .offer, src: "page", dst: "door", payload: ["x": 1]))])
    }

    @Test func aDeadDestinationIsDroppedAndTheSenderToldLeave() {
        var core = Core()
        _ = core.connect(1, key: "peerjs", id: "door", token: "t1", now: 0)
        _ = core.connect(2, key: "peerjs", id: "page", token: "t2", now: 0)
        let offer = PeerJSMessage(type: .offer, dst: "door", payload: ["x": 1])
        guard case .send(1, let forwarded)? = core.receive(offer, from: 2, now: 10).first else {
            Issue.record("not forwarded"); return
        }
        // The transport could not deliver it to socket 1.
        #expect(core.deliveryFailed(1, forwarded) == [.close(1), .send(2, PeerJSMessage(type: .leave, src: "door", dst: "page"))])
        #expect(core.registeredIDs == ["page"])
        // A server-generated frame that fails tells nobody.
        _ = core.connect(3, key: "peerjs", id: "other", token: "t3", now: 20)
        #expect(core.deliveryFailed(3, PeerJSMessage(type: .open)) == [.close(3)])
    }

    @Test func forwardsWithTheSendersRealID() {
        var core = Core()
        _ = core.connect(1, key: "peerjs", id: "a", token: "t", now: 0)
        _ = core.connect(2, key: "peerjs", id: "b", token: "t", now: 0)
        let forged = PeerJSMessage(type: .candidate, src: "someone-else", dst: "b", payload: ["c": 1])
        #expect(core.receive(forged, from: 1, now: 1) ==
                [.send(2, PeerJSMessage(type: .candidate, src: "a", dst: "b", payload: ["c": 1]))])
    }

    @Test func queuesForAbsentPeersThenDeliversOrExpires() {
        var core = Core()
        _ = core.connect(1, key: "peerjs", id: "a", token: "t", now: 0)
        let offer = PeerJSMessage(type: .offer, dst: "late", payload: ["n": 1])
        #expect(core.receive(offer, from: 1, now: 0).isEmpty)
        // Arrives in time: OPEN, then the queued message.
        let actions = core.connect(2, key: "peerjs", id: "late", token: "t", now: 1000)
        #expect(actions == [.send(2, PeerJSMessage(type: .open)),
                            .send(2, PeerJSMessage(type: .offer, src: "a", dst: "late", payload: ["n": 1]))])
        // Never arrives: one EXPIRE to the sender after 5 s.
        _ = core.receive(PeerJSMessage(type: .offer, dst: "ghost"), from: 1, now: 2000)
        _ = core.receive(PeerJSMessage(type: .candidate, dst: "ghost"), from: 1, now: 2100)
        #expect(core.sweep(now: 6000).isEmpty)
        #expect(core.sweep(now: 7000) == [.send(1, PeerJSMessage(type: .expire, src: "ghost", dst: "a"))])
        // LEAVE and EXPIRE for absent peers are dropped, not queued.
        _ = core.receive(PeerJSMessage(type: .leave, dst: "nobody"), from: 1, now: 8000)
        #expect(core.sweep(now: 20000).isEmpty)
    }

    @Test func dropsClientsThatStopHeartbeating() {
        var core = Core()
        _ = core.connect(1, key: "peerjs", id: "quiet", token: "t", now: 0)
        _ = core.connect(2, key: "peerjs", id: "alive", token: "t", now: 0)
        _ = core.receive(PeerJSMessage(type: .heartbeat), from: 2, now: 55_000)
        #expect(core.sweep(now: 60_500) == [.close(1)])
        #expect(core.registeredIDs == ["alive"])
    }

    @Test func closeFreesTheIDAtOnce() {
        var core = Core()
        _ = core.connect(1, key: "peerjs", id: "door", token: "t1", now: 0)
        core.disconnect(1)
        #expect(core.connect(2, key: "peerjs", id: "door", token: "new", now: 1).first == .send(2, PeerJSMessage(type: .open)))
    }
}

@Suite struct PeerServerCoreHostileTests {
    typealias Core = PeerServerCore<Int>

    @Test func aDroppedIDStaysWithItsTokenForTheGrace() {
        var settings = Core.Settings()
        settings.reclaimGraceMillis = 10_000
        var core = Core(settings: settings)
        _ = core.connect(1, key: "peerjs", id: "door", token: "mine", now: 0, exempt: true)
        _ = core.connect(9, key: "peerjs", id: "page", token: "p1", now: 0)
        core.disconnect(9, now: 50)
        // A stranger's ID (a page reloading with a new token) is free at once, as upstream.
        #expect(core.connect(10, key: "peerjs", id: "page", token: "p2", now: 60).first == .send(10, PeerJSMessage(type: .open)))
        core.disconnect(1, now: 100)
        #expect(core.connect(2, key: "peerjs", id: "door", token: "thief", now: 200) ==
                [.send(2, PeerJSMessage(type: .idTaken, payload: ["msg": "ID is taken"])), .close(2)])
        #expect(core.connect(3, key: "peerjs", id: "door", token: "mine", now: 300, exempt: true) ==
                [.send(3, PeerJSMessage(type: .open))])
        // A LEAVE frees it at once; after the grace anyone may have it.
        _ = core.receive(PeerJSMessage(type: .leave), from: 3, now: 400)
        #expect(core.connect(4, key: "peerjs", id: "door", token: "other", now: 500).first == .send(4, PeerJSMessage(type: .open)))
        core.disconnect(4, now: 600)
        #expect(core.connect(5, key: "peerjs", id: "door", token: "late", now: 10_601).first == .send(5, PeerJSMessage(type: .open)))
    }

    @Test func queuedBytesAreBoundedPerSenderAndInAll() {
        var settings = Core.Settings()
        settings.maxQueuedBytes = 10_000
        settings.maxQueuedBytesPerSender = 4_000
        var core = Core(settings: settings)
        _ = core.connect(1, key: "peerjs", id: "a", token: "t", now: 0)
        _ = core.connect(2, key: "peerjs", id: "b", token: "t", now: 0)
        let big = String(repeating: "x", count: 1_000)
        for i in 0..<20 {
            _ = core.receive(PeerJSMessage(type: .offer, dst: "absent-\(i)", payloadText: "\"\(big)\""), from: 1, now: 0)
        }
        #expect(core.queuedByteCount <= 4_000)
        #expect(core.queuedByteCount > 2_000)
        for i in 0..<20 {
            _ = core.receive(PeerJSMessage(type: .offer, dst: "absent-b\(i)", payloadText: "\"\(big)\""), from: 2, now: 0)
        }
        #expect(core.queuedByteCount <= 8_000)
        // Expiry gives it all back.
        _ = core.sweep(now: 10_000)
        #expect(core.queuedByteCount == 0)
    }

    @Test func routingFramesForwardThePayloadTextUnread() throws {
        let text = #"{"type":"CANDIDATE","src":"mallory","dst":"door","payload":{"z":[{},{}],"a":"\u00e9"},"x":1}"#
        let message = try PeerJSMessage.decodeForRouting(text)
        #expect(message.type == .candidate && message.dst == "door" && message.payload == nil)
        var forwarded = message
        forwarded.src = "alice"
        let full = try PeerJSMessage.decode(forwarded.encoded())
        #expect(full.src == "alice" && full.dst == "door")
        #expect(full.payload == ["z": [[:], [:]], "a": "é"])
        #expect(throws: SignalingError.self) { try PeerJSMessage.decodeForRouting(#"{"type":"OFFER","payload":[1,}"#) }
        #expect(throws: SignalingError.self) { try PeerJSMessage.decodeForRouting(#"{"type":"OFFER","dst":7}"#) }
    }

    /// M1: past its budget of guessable IDs, a sender hears the same EXPIRE, at the same time, from the door's
    /// code ID as from an absent one; nothing reaches the door.
    @Test func aPresentCodeIDPastTheBudgetExpiresLikeAnAbsentOne() {
        var settings = Core.Settings()
        settings.guessableIDs = .init(prefix: "intercom-")
        settings.guessableIDsPerSender = 2
        var core = Core(settings: settings)
        _ = core.connect(1, key: "peerjs", id: "intercom-12345", token: "door", now: 0, exempt: true)
        _ = core.connect(2, key: "peerjs", id: "prober", token: "p", now: 0, sender: "10.0.0.9")
        // A second ID from the same address shares the budget.
        _ = core.connect(3, key: "peerjs", id: "prober2", token: "p2", now: 0, sender: "10.0.0.9")
        let probe = { (dst: String) in PeerJSMessage(type: .candidate, dst: dst, payload: ["c": 1]) }
        #expect(core.receive(probe("intercom-00001"), from: 2, now: 10).isEmpty)
        #expect(core.receive(probe("intercom-00002"), from: 3, now: 10).isEmpty)
        // Over the budget: the live code ID is not reached…
        #expect(core.receive(probe("intercom-12345"), from: 2, now: 10).isEmpty)
        #expect(core.receive(probe("intercom-00003"), from: 2, now: 10).isEmpty)
        #expect(core.sweep(now: 4_999).isEmpty)
        // …and expires with the absent ones.
        let expired = core.sweep(now: 5_010)
        for dst in ["intercom-00001", "intercom-12345", "intercom-00003"] {
            #expect(expired.contains(.send(2, PeerJSMessage(type: .expire, src: dst, dst: "prober"))))
        }
        #expect(expired.contains(.send(3, PeerJSMessage(type: .expire, src: "intercom-00002", dst: "prober2"))))
        #expect(expired.count == 4)
        // The door's client reconnecting gets nothing of the probe.
        #expect(core.connect(4, key: "peerjs", id: "intercom-12345", token: "door", now: 6_000, exempt: true) == [.close(1)])
        #expect(core.queuedByteCount == 0)
    }

    @Test func aVisitorWithinTheBudgetReachesTheCodeIDAndOtherIDsAreNotCounted() {
        var settings = Core.Settings()
        settings.guessableIDs = .init(prefix: "intercom-")
        settings.guessableIDsPerSender = 1
        var core = Core(settings: settings)
        _ = core.connect(1, key: "peerjs", id: "intercom-12345", token: "door", now: 0, exempt: true)
        _ = core.connect(2, key: "peerjs", id: "visitor", token: "v", now: 0, sender: "10.0.0.7")
        _ = core.connect(5, key: "peerjs", id: "intercom-home-abc", token: "h", now: 0, exempt: true)
        let offer = PeerJSMessage(type: .offer, dst: "intercom-12345", payload: ["x": 1])
        let forwarded = PeerJSMessage(type: .offer, src: "visitor", dst: "intercom-12345", payload: ["x": 1])
        #expect(core.receive(offer, from: 2, now: 1) == [.send(1, forwarded)])
        // The same ID again costs nothing; an ID that is not a code ID is never counted.
        #expect(core.receive(offer, from: 2, now: 2) == [.send(1, forwarded)])
        let home = PeerJSMessage(type: .offer, dst: "intercom-home-abc", payload: ["x": 1])
        #expect(core.receive(home, from: 2, now: 3).count == 1)
        #expect(core.receive(PeerJSMessage(type: .offer, dst: "intercom-123456", payload: ["x": 1]), from: 2, now: 4).isEmpty)
        #expect(Core.GuessableIDs(prefix: "intercom-").matches("intercom-00000"))
        #expect(!Core.GuessableIDs(prefix: "intercom-").matches("intercom-0000a"))
        #expect(!Core.GuessableIDs(prefix: "intercom-").matches("intercom-123456"))
        // The door itself (exempt) is never held back.
        _ = core.connect(3, key: "peerjs", id: "intercom-54321", token: "door2", now: 0, exempt: true)
        let fromDoor = PeerJSMessage(type: .answer, dst: "intercom-12345", payload: ["y": 1])
        #expect(core.receive(fromDoor, from: 3, now: 5).count == 1)
    }

    @Test func knocksToCodeIDsAreLimitedPerAddressNotPerID() {
        var settings = Core.Settings()
        settings.guessableIDs = .init(prefix: "intercom-")
        settings.guessableOffersPerSenderPerMinute = 2
        var core = Core(settings: settings)
        _ = core.connect(1, key: "peerjs", id: "intercom-12345", token: "door", now: 0, exempt: true)
        for n in 2...4 { _ = core.connect(n, key: "peerjs", id: "s\(n)", token: "t\(n)", now: 0, sender: "10.0.0.9") }
        _ = core.connect(5, key: "peerjs", id: "visitor", token: "v", now: 0, sender: "10.0.0.7")
        let knock = PeerJSMessage(type: .offer, dst: "intercom-12345", payload: ["x": 1])
        #expect(core.receive(knock, from: 2, now: 1).count == 1)
        // The same caller's second OFFER (its chat connection beside the call) is the same knock.
        #expect(core.receive(knock, from: 2, now: 1).count == 1)
        #expect(core.receive(knock, from: 3, now: 2).count == 1)
        // A third ID from the same address: held, and expired like a knock on an absent code.
        #expect(core.receive(knock, from: 4, now: 3).isEmpty)
        #expect(core.receive(knock, from: 5, now: 4).count == 1)
        #expect(core.sweep(now: 5_100) == [.send(4, PeerJSMessage(type: .expire, src: "intercom-12345", dst: "s4"))])
        // A minute on, the address may knock again; candidates were never counted as knocks.
        #expect(core.receive(knock, from: 4, now: 60_004).count == 1)
    }
}

