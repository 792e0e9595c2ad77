@testable import Door
import DoorCore
import MainLoop
import Signaling
import Testing
import TestSupport

/// A call the door places through its home ID (`ctl call`), with fake signaling and media.
extension DoorFlows {
@Suite struct DialFlowTests {
    static let offerSDP = "v=0\r\no=- 5 2 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
    static let answerSDP = "v=0\r\no=- 6 2 IN IP4 127.0.0.1\r\ns=phone\r\n"

    /// `ctl call phone-1`; the session's OFFER goes out through the home ID. Returns the home ID and connectionId.
    static func dial(_ door: DoorHarness) async throws -> (home: String, connectionId: String) {
        let reply = try door.ctl.send(["cmd": "call", "peer": "phone-1"])
        #expect(reply["ok"] == true)
        let connectionId = try #require(reply["connectionId"]?.stringValue)
        let home = try #require(reply["homePeerId"]?.stringValue)
        #expect(door.next("dialing")?["connectionId"]?.stringValue == connectionId)
        let offers = await door.onLoop { _, signaling, media in
            let call = media.call(with: "phone-1")!
            #expect(call.started)
            call.fire(.offer(Self.offerSDP))
            return signaling.channel(home)!.sent(.offer, to: "phone-1").map(\.payload)
        }
        try #require(offers.count == 1)
        #expect(offers[0]?["sdp"]?["sdp"]?.stringValue == Self.offerSDP)
        #expect(offers[0]?["connectionId"]?.stringValue == connectionId)
        #expect(offers[0]?["type"] == "media")
        return (home, connectionId)
    }

    @Test func aPlacedCallThatIsAnsweredConnects() async throws {
        let door = try await DoorHarness()
        let (home, connectionId) = try await Self.dial(door)
        try await door.onLoop { _, signaling, _ in
            let answer = ConnectionPayload(sdp: SessionDescription(type: "answer", sdp: Self.answerSDP), type: .media,
                                           connectionId: connectionId).json
            let channel = signaling.channel(home)!
            // An answer for another connection is not this call's.
            channel.deliver(.answer, from: "phone-1", ConnectionPayload(
                sdp: SessionDescription(type: "answer", sdp: "v=0\r\nwrong\r\n"), type: .media, connectionId: "mc_x").json)
            channel.deliver(.answer, from: "phone-1", answer)
            channel.deliver(.candidate, from: "phone-1", DoorHarness.candidate(4, connectionId: connectionId))
        }
        #expect(door.next("call-answered")?["connectionId"]?.stringValue == connectionId)
        let (remoteAnswer, remote) = await door.onLoop { _, _, media in
            let call = media.call(with: "phone-1")!
            call.fire(.connected)
            return (call.remoteAnswer, call.remoteCandidates.map(\.candidate))
        }
        #expect(remoteAnswer == Self.answerSDP)
        #expect(remote.count == 1)
        #expect(door.next("call-connected")?["peer"] == "phone-1")
        #expect(await door.onLoop { device, _, _ in device.machine.phase.name } == "in-call")
        await door.stop()
    }

    @Test func aPlacedCallToAPeerThatIsNotThereFails() async throws {
        let door = try await DoorHarness()
        let (home, connectionId) = try await Self.dial(door)
        try await door.onLoop { _, signaling, _ in signaling.channel(home)!.deliver(.expire, from: "phone-1", nil) }
        let failed = door.next("call-failed")
        #expect(failed?["connectionId"]?.stringValue == connectionId)
        #expect(failed?["reason"] == "offline")
        let (hangUps, cancels) = await door.onLoop { _, signaling, media in
            (media.call(with: "phone-1")!.hangUps, signaling.channel(home)!.sent(.leave, to: "phone-1").count)
        }
        #expect(hangUps == 1, "the offering session is stopped")
        #expect(cancels == 0, "nobody is there to tell")
        await door.stop()
    }

    @Test func anUnansweredPlacedCallIsCancelledAtItsDeadline() async throws {
        let door = try await DoorHarness { $0.configuration.door.answerTimeoutSeconds = 1 }
        let (home, connectionId) = try await Self.dial(door)
        let failed = door.next("call-failed")
        #expect(failed?["reason"] == "no-answer")
        let cancels = await door.onLoop { _, signaling, _ in signaling.channel(home)!.sent(.leave, to: "phone-1").map(\.payload) }
        #expect(cancels.count == 1)
        #expect(cancels.first??["reason"] == "cancelled")
        #expect(cancels.first??["connectionId"]?.stringValue == connectionId)
        await door.stop()
    }
}
}
