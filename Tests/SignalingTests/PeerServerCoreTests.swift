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
}
