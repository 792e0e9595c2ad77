import Admission
@testable import Door
import DoorCore
import Glibc
import MainLoop
import Signaling
import Testing
import TestSupport

/// Data connections through the door with fakes at the signaling, media (data sessions) and notifier seams:
/// pairing a browser with the code on the screen, ringing a paired browser, and chat with the caller.
extension DoorFlows {
@Suite struct DataFlowTests {
    /// A data connection's SDP with a DTLS fingerprint of 32 `byte`s (what pairing proofs are bound to).
    static func dataSDP(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        let hex = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        let fingerprint = Array(repeating: hex, count: 32).joined(separator: ":")
        return "v=0\r\no=- \(byte) 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 \(fingerprint)\r\n"
            + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n"
    }

    static let pageSDP = dataSDP(0x11)
    static let doorSDP = dataSDP(0x22)
    static var pageFP: String { PairingProof.fingerprint(inSDP: pageSDP)! }
    static var doorFP: String { PairingProof.fingerprint(inSDP: doorSDP)! }

    /// A door with a device ID and a state directory, so it can pair; `pairings` are on disk before it starts.
    static func pairingDoor(_ pairings: [Pairing] = []) async throws -> DoorHarness {
        try await DoorHarness { options in
            options.deviceID = "door-test"
            let state = options.stateDirectory
            _ = mkdir(state, 0o700)
            var store = PairingStore(stateDirectory: state)
            for pairing in pairings { try? store.add(pairing) }
        }
    }

    /// A page's data OFFER (PeerJS 1.5, json) from `peer` to `to`.
    static func dataOffer(_ connectionId: String, label: String, intercom: String?) -> JSONValue {
        ConnectionPayload(sdp: SessionDescription(type: "offer", sdp: pageSDP), type: .data, connectionId: connectionId,
                          metadata: intercom.map { ["intercom": .string($0)] }, label: label, reliable: true,
                          serialization: "json").json
    }

    /// A page opens a pairing connection to the home ID and sends `pair` with a MAC under `key`.
    static func pair(_ door: DoorHarness, from peer: String, _ connectionId: String, key: [UInt8]) async throws {
        try await door.onLoop { device, signaling, media in
            let home = try #require(signaling.channel(device.home!.peerID))
            home.deliver(.offer, from: peer, Self.dataOffer(connectionId, label: "pair", intercom: "pair"))
            let data = try #require(media.data(with: peer, connectionId: connectionId), "the door took the pairing offer")
            #expect(data.started)
            data.fire(.answer(Self.doorSDP))
            #expect(home.sent(.answer, to: peer).last?.payload?["connectionId"]?.stringValue == connectionId)
            data.fire(.open)
            data.receive(["t": "pair", "peerId": .string(peer), "name": "Anna's phone",
                          "proof": .string(PairingProof.mac(.pair, key: key, offerFP: Self.pageFP, answerFP: Self.doorFP))])
        }
    }

    @Test func aPairingOfferProvedWithTheCodeIsPairedAndAWrongCodeIsRefused() async throws {
        let door = try await Self.pairingDoor()
        #expect(try door.ctl.send(["cmd": "pair"])["ok"] == true)
        #expect(door.next("pairing-open") != nil)
        let token = try await door.onLoop { device, _, _ in
            guard case .pairing(let window) = device.machine.phase else { throw HarnessError("no pairing window") }
            return window.token.bytes
        }

        try await Self.pair(door, from: "phone-2", "dc_2", key: Array(repeating: 7, count: 16))
        #expect(door.next("pair-refused")?["reason"] == "proof")
        let refusedReplies = await door.onLoop { _, _, media in media.data(with: "phone-2")!.sent.compactMap { $0 } }
        #expect(refusedReplies == [["t": "pair-refused", "reason": "proof"]])

        try await Self.pair(door, from: "phone-1", "dc_1", key: token)
        let paired = door.next("paired")
        #expect(paired?["name"] == "Anna's phone")
        let replies = await door.onLoop { _, _, media in media.data(with: "phone-1")!.sent("paired") }
        try #require(replies.count == 1)
        #expect(replies[0]["id"] == paired?["id"])
        #expect(replies[0]["credential"]?.stringValue?.isEmpty == false)
        guard case .array(let listed)? = try door.ctl.send(["cmd": "pairings"])["pairings"] else {
            throw HarnessError("pairings lists no array")
        }
        #expect(listed.map { $0["name"] } == ["Anna's phone"], "only the proved page is paired")
        await door.stop()
    }

    @Test func aPairedBrowserIsRungOverItsLinkAndHearsTheCallWasAnsweredElsewhere() async throws {
        let pairing = Pairing.make(name: "Anna's phone", peerId: "phone-1", now: 1)
        let door = try await Self.pairingDoor([pairing])
        let ids = try await door.openRoom()
        let (home, ringID) = try await door.onLoop { device, signaling, media in
            let data = try #require(media.data(with: "phone-1"), "the reachable room rings the pairing")
            #expect(data.label == "ring" && data.started)
            data.fire(.offer(Self.doorSDP))
            let home = try #require(signaling.channel(device.home!.peerID))
            return (home.id, data.connection.connectionId)
        }
        try await door.onLoop { _, signaling, media in
            let home = signaling.channel(home)!
            let offer = try #require(home.sent(.offer, to: "phone-1").last?.payload)
            #expect(offer["label"] == "ring" && offer["metadata"]?["intercom"] == "ring")
            home.deliver(.answer, from: "phone-1", ConnectionPayload(sdp: SessionDescription(type: "answer", sdp: Self.pageSDP),
                                                                     type: .data, connectionId: ringID).json)
            home.deliver(.candidate, from: "phone-1", CandidatePayload(
                candidate: "candidate:5 1 udp 2122260223 192.0.2.5 55000 typ host", sdpMid: "0", sdpMLineIndex: 0,
                type: .data, connectionId: ringID).json)
            let data = media.data(with: "phone-1")!
            #expect(data.remoteAnswer == Self.pageSDP)
            #expect(data.remoteCandidates.count == 1)
            data.fire(.open)
            data.receive(["t": "hello", "id": .string(pairing.id),
                          "proof": .string(PairingProof.mac(.hello, key: pairing.credentialKey!, offerFP: Self.doorFP,
                                                            answerFP: Self.pageFP))])
        }
        #expect(door.next("pairing-ring", matching: ["result": "rung"])?["id"]?.stringValue == pairing.id)
        let (ring, link, notices) = await door.onLoop { device, _, media in
            (media.data(with: "phone-1")!.sent("ring"), device.room?.link.url,
             (device.notifier as? FakeNotifier)?.rings.map(\.notice) ?? [])
        }
        try #require(ring.count == 1)
        let opened = door.seen.first(where: { $0["event"] == "room-opened" })
        #expect(ring[0]["code"] == opened?["code"])
        #expect(ring[0]["link"]?.stringValue == link, "the paired page gets the whole join link")
        #expect(notices.count == 1, "the reachable room's ring went to the notifier once")
        #expect(notices.first?.code == opened?["code"]?.stringValue)

        // Someone with the link calls; the door answers: the ringing browser hears it was answered elsewhere.
        try await door.onLoop { device, signaling, _ in
            signaling.channel(ids.room)!.deliver(.offer, from: "page-1",
                                                 DoorHarness.provedOffer(device, from: "page-1", connectionId: "mc_1"))
        }
        #expect(door.next("pairing-ring-over")?["reason"] == "answered-elsewhere")
        let over = await door.onLoop { _, _, media in media.data(with: "phone-1")!.sent("ring-over") }
        #expect(over.map { $0["reason"] } == ["answered-elsewhere"])
        await door.stop()
    }

    @Test func theCallersChatArrivesAsAnEventAndTheDoorsMessageReachesTheCaller() async throws {
        let door = try await DoorHarness()
        let room = try await RoomCallFlowTests.connectedCall(door) { _, channel in
            channel.deliver(.offer, from: "page-1", Self.dataOffer("dc_c", label: "chat", intercom: nil))
            channel.deliver(.candidate, from: "page-1", CandidatePayload(
                candidate: "candidate:6 1 udp 2122260223 192.0.2.6 56000 typ host", sdpMid: "0", sdpMLineIndex: 0,
                type: .data, connectionId: "dc_c").json)
        }
        #expect(door.next("call-connected") != nil)
        try await door.onLoop { _, signaling, media in
            let data = try #require(media.data(with: "page-1", connectionId: "dc_c"), "the caller's data offer is taken")
            #expect(data.remoteCandidates.count == 1, "its candidate went to its connection")
            data.fire(.answer(Self.doorSDP))
            #expect(signaling.channel(room)!.sent(.answer, to: "page-1").last?.payload?["type"] == "data")
            data.fire(.open)
            data.receive(["t": "chat", "text": "Parcel for flat 3"])
        }
        let chat = door.next("chat")
        #expect(chat?["from"] == "visitor")
        #expect(chat?["text"] == "Parcel for flat 3")
        #expect(try door.ctl.send(["cmd": "chat", "text": "Leave it by the door"]) == ["ok": true])
        let sent = await door.onLoop { _, _, media in media.data(with: "page-1", connectionId: "dc_c")!.sent("chat") }
        #expect(sent.map { $0["text"] } == ["Leave it by the door"])
        await door.stop()
    }

    @Test func aStrangersDataOfferGetsNoConnection() async throws {
        let door = try await DoorHarness()
        let room = try await RoomCallFlowTests.connectedCall(door) { _, channel in
            channel.deliver(.offer, from: "page-9", Self.dataOffer("dc_x", label: "chat", intercom: nil))
        }
        #expect(door.next("call-connected") != nil)
        let (made, answers) = await door.onLoop { _, signaling, media in
            (media.data.count, signaling.channel(room)!.sent(.answer, to: "page-9").count)
        }
        #expect(made == 0, "only the caller of the running call may open a chat")
        #expect(answers == 0)
        await door.stop()
    }
}
}
