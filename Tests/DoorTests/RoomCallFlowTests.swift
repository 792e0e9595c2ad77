@testable import Door
import DoorCore
import MainLoop
import Signaling
import Testing
import TestSupport

/// A room caller's whole call through the door, with fakes only at the signaling and media seams: the OFFER
/// passes the room gate and the state machine, the door answers with its session's SDP, candidates go both ways,
/// and every way a call ends leaves the door where it should be.
extension DoorFlows {
@Suite struct RoomCallFlowTests {
    static let answerSDP = "v=0\r\no=- 9 2 IN IP4 127.0.0.1\r\ns=door\r\n"

    /// A proved caller's call from page-1, answered, whose media then reported its answer and ICE connected (what a
    /// pipeline would); then, in the same loop turn, `next` with the room's registration. Returns the room's
    /// peer ID.
    static func connectedCall(_ door: DoorHarness,
                              then next: @escaping @GLibActor (Device, FakeChannel) -> Void = { _, _ in }) async throws -> String {
        let room = try await door.answeredCall()
        try await door.onLoop { device, signaling, media in
            let call = media.call(with: "page-1")!
            call.fire(.answer(answerSDP))
            call.fire(.connected)
            next(device, signaling.channel(room)!)
        }
        return room
    }

    @Test func aProvedCallerIsAnsweredWithTheSessionsSDPAndCandidatesGoBothWays() async throws {
        let door = try await DoorHarness()
        let room = try await door.answeredCall()
        let started = door.seen.last
        #expect(started?["peer"] == "page-1")
        #expect(started?["connectionId"] == "mc_1")

        let (answer, candidate, remote, warm) = try await door.onLoop { device, signaling, media in
            let channel = signaling.channel(room)!
            let call = try #require(media.call(with: "page-1"))
            #expect(call.started)
            #expect(call.offerSDP == DoorHarness.offerSDP)
            channel.deliver(.candidate, from: "page-1", DoorHarness.candidate(1, connectionId: "mc_1"))
            // Another connection of the same peer is not this call's.
            channel.deliver(.candidate, from: "page-1", DoorHarness.candidate(2, connectionId: "mc_other"))
            call.fire(.answer(Self.answerSDP))
            call.fire(.localCandidate(mline: 1, candidate: "candidate:7 1 udp 2122260223 198.51.100.7 7000 typ host"))
            let expectedProof = DoorHarness.answerProof(device, to: "page-1", connectionId: "mc_1", answerSDP: Self.answerSDP)
            return (channel.sent(.answer, to: "page-1").map { ($0.payload, expectedProof) },
                    channel.sent(.candidate, to: "page-1").map(\.payload),
                    call.remoteCandidates.map(\.candidate), media.warmUps)
        }
        #expect(warm == 1, "a reachable room warms the pipeline once")
        #expect(remote == ["candidate:1 1 udp 2122260223 192.0.2.1 51000 typ host"])
        try #require(answer.count == 1)
        let (payload, expectedProof) = answer[0]
        #expect(payload?["sdp"]?["type"] == "answer")
        #expect(payload?["sdp"]?["sdp"]?.stringValue == Self.answerSDP)
        #expect(payload?["type"] == "media")
        #expect(payload?["connectionId"] == "mc_1")
        #expect(payload?["proof"] == expectedProof, "a proved caller gets the MAC over its offer and our answer")
        try #require(candidate.count == 1)
        #expect(candidate[0]?["candidate"]?["candidate"]?.stringValue?.hasPrefix("candidate:7 ") == true)
        #expect(candidate[0]?["candidate"]?["sdpMid"] == "v1", "the mid of m-line 1 in the caller's offer")
        #expect(candidate[0]?["connectionId"] == "mc_1")

        try await door.onLoop { _, _, media in media.call(with: "page-1")!.fire(.connected) }
        #expect(door.next("call-connected")?["peer"] == "page-1")
        #expect(await door.onLoop { device, _, _ in device.machine.phase.name } == "in-call")
        await door.stop()
    }

    @Test(arguments: [true, false])
    func theCallersLeaveEndsTheCallAsTheirHangUp(namingTheCall: Bool) async throws {
        let door = try await DoorHarness()
        let room = try await Self.connectedCall(door) { _, channel in
            // A page's hang-up names its call; the server's LEAVE (the page's socket died) names nobody.
            channel.deliver(.leave, from: "page-1", namingTheCall ? LeavePayload.hangUp(connectionId: "mc_1").json : nil)
        }
        let ended = door.next("call-ended")
        #expect(ended?["by"] == "remote")
        let (peerHangUps, hangUps, leaves, phase) = await door.onLoop { device, signaling, media in
            let call = media.call(with: "page-1")!
            return (call.peerHangUps.count, call.hangUps, signaling.channel(room)!.sent(.leave, to: "page-1").count,
                    device.machine.phase.name)
        }
        #expect(peerHangUps == 1)
        #expect(hangUps == 0)
        #expect(leaves == 0, "the caller left: the door has nothing to tell it")
        #expect(phase != "in-call")
        await door.stop()
    }

    @Test func theDoorsHangUpSaysLeaveWithItsReasonThenEndsTheCall() async throws {
        let door = try await DoorHarness()
        let room = try await Self.connectedCall(door)
        #expect(door.next("call-connected") != nil)
        #expect(try door.ctl.send(["cmd": "hangup"])["ok"] == true)
        #expect(door.next("call-ended")?["by"] == "local")
        let (leaves, hangUps, peerHangUps) = await door.onLoop { _, signaling, media in
            let call = media.call(with: "page-1")!
            return (signaling.channel(room)!.sent(.leave, to: "page-1").map(\.payload), call.hangUps, call.peerHangUps.count)
        }
        #expect(leaves.count == 1)
        #expect(leaves.first??["reason"] == "hangup")
        #expect(leaves.first??["connectionId"] == "mc_1")
        #expect(hangUps == 1)
        #expect(peerHangUps == 0)
        await door.stop()
    }

    @Test func aLeaveBeforeTheAnswerEndsTheCallAndNoAnswerGoesOut() async throws {
        let door = try await DoorHarness()
        let room = try await door.answeredCall()
        try await door.onLoop { _, signaling, media in
            signaling.channel(room)!.deliver(.leave, from: "page-1", LeavePayload.hangUp(connectionId: "mc_1").json)
            // The pipeline's answer comes too late: the call is over.
            media.call(with: "page-1")!.fire(.answer(Self.answerSDP))
        }
        #expect(door.next("call-ended")?["by"] == "remote")
        let answers = await door.onLoop { _, signaling, media in
            media.call(with: "page-1")!.fire(.answer(Self.answerSDP))
            return signaling.channel(room)!.sent(.answer, to: "page-1").count
        }
        #expect(answers <= 1)
        await door.stop()
    }

    @Test func aKnockThatLeavesBeforeItIsAnsweredGetsNoMedia() async throws {
        let door = try await DoorHarness()
        let ids = try await door.openRoom()
        try await door.onLoop { _, signaling, _ in
            let offer = ConnectionPayload(sdp: SessionDescription(type: "offer", sdp: DoorHarness.offerSDP), type: .media,
                                          connectionId: "mc_k").json
            signaling.channel(ids.knock)!.deliver(.offer, from: "page-3", offer)
        }
        #expect(door.next("phase", matching: ["phase": "knock"])?["peer"] == "page-3")
        try await door.onLoop { _, signaling, _ in signaling.channel(ids.knock)!.deliver(.leave, from: "page-3", nil) }
        #expect(door.next("phase", matching: ["phase": "room"]) != nil)
        // Pressing answer now answers nobody.
        #expect(try door.ctl.send(["cmd": "press", "button": "answer"]) == ["ok": true])
        let (sessions, answers) = await door.onLoop { _, signaling, media in
            (media.calls.count, signaling.channel(ids.knock)!.sent(.answer, to: "page-3").count)
        }
        #expect(sessions == 0, "a knock gets no media object before the person at the door answers")
        #expect(answers == 0)
        await door.stop()
    }

    @Test func aKnockIsAnsweredWhenThePersonAtTheDoorAccepts() async throws {
        let door = try await DoorHarness()
        let ids = try await door.openRoom()
        try await door.onLoop { _, signaling, _ in
            let offer = ConnectionPayload(sdp: SessionDescription(type: "offer", sdp: DoorHarness.offerSDP), type: .media,
                                          connectionId: "mc_k").json
            let knock = signaling.channel(ids.knock)!
            knock.deliver(.offer, from: "page-3", offer)
            // Candidates that come before the answer wait for the session.
            knock.deliver(.candidate, from: "page-3", DoorHarness.candidate(3, connectionId: "mc_k"))
        }
        #expect(door.next("phase", matching: ["phase": "knock"])?["peer"] == "page-3")
        #expect(await door.onLoop { _, _, media in media.calls.count } == 0)
        #expect(try door.ctl.send(["cmd": "press", "button": "answer"]) == ["ok": true])
        #expect(door.next("call-started")?["connectionId"] == "mc_k")
        let (remote, answer) = await door.onLoop { _, signaling, media in
            let call = media.call(with: "page-3")!
            call.fire(.answer(Self.answerSDP))
            return (call.remoteCandidates.map(\.candidate), signaling.channel(ids.knock)!.sent(.answer, to: "page-3").map(\.payload))
        }
        #expect(remote.count == 1)
        #expect(answer.count == 1)
        #expect(answer.first??["proof"] == nil, "a knock has no secret to check a proof with")
        await door.stop()
    }

    @Test func aSecondCallerWhileInCallIsRefusedBusy() async throws {
        let door = try await DoorHarness()
        let room = try await Self.connectedCall(door) { device, channel in
            channel.deliver(.offer, from: "page-2", DoorHarness.provedOffer(device, from: "page-2", connectionId: "mc_2"))
        }
        let refused = door.next("refused")
        #expect(refused?["peer"] == "page-2")
        #expect(refused?["reason"] == "busy")
        let (leaves, sessions, first) = await door.onLoop { _, signaling, media in
            (signaling.channel(room)!.sent(.leave, to: "page-2").map(\.payload), media.calls.count,
             media.call(with: "page-1")!.isEnded)
        }
        #expect(leaves.count == 1)
        #expect(leaves.first??["reason"] == "busy")
        #expect(leaves.first??["connectionId"] == "mc_2")
        #expect(sessions == 1, "the refused caller got no media object")
        #expect(!first, "the running call goes on")
        await door.stop()
    }

    @Test func muteReachesTheCallAndAnExpireForAnotherPeerEndsNothing() async throws {
        let door = try await DoorHarness()
        _ = try await Self.connectedCall(door) { _, channel in
            // The server could not reach someone the door never wrote to: nothing of this call's.
            channel.deliver(.expire, from: "page-9", nil)
        }
        #expect(door.next("call-connected") != nil)
        #expect(try door.ctl.send(["cmd": "press", "button": "mute"]) == ["ok": true])
        #expect(door.next("muted")?["muted"] == true)
        let (muted, ended, phase) = await door.onLoop { device, _, media in
            let call = media.call(with: "page-1")!
            return (call.muted, call.isEnded, device.machine.phase.name)
        }
        #expect(muted == true)
        #expect(!ended)
        #expect(phase == "in-call")
        await door.stop()
    }
}
}
