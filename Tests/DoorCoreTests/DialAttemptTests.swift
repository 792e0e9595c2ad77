import Testing
@testable import DoorCore

@Suite struct DialAttemptTests {
    static let call = CallStateMachine.CallID(peer: "resident", connectionId: "mc_1")

    func attempt() -> DialAttempt { DialAttempt(call: Self.call, deadline: 30_000, metadata: ["intercom": "door"]) }

    @Test func anAnswerIsAppliedOnceAndAnsweredCallsEndWithoutAReport() {
        var a = attempt()
        #expect(a.handle(.answer(sdp: "v=0 a")) == [.applyAnswer(sdp: "v=0 a")])
        #expect(a.handle(.answer(sdp: "v=0 b")) == [])
        #expect(a.answerSDP == "v=0 a")
        #expect(a.handle(.sessionEnded(failed: false, at: 5_000)) == [])
    }

    @Test func anUnusableAnswerHangsUpAndIsTheReason() {
        var a = attempt()
        _ = a.handle(.answer(sdp: "garbage"))
        #expect(a.handle(.answerUnusable) == [.hangUp])
        #expect(!a.isAnswered)
        // The peer is not told "cancelled": it sent an answer.
        #expect(a.handle(.sessionEnded(failed: false, at: 1_000)) == [.reportUnanswered(why: "bad answer")])
    }

    @Test func withoutAWordFromThePeerTheEndSaysWhyAndCancelsTheRinging() {
        var beforeDeadline = attempt()
        #expect(beforeDeadline.handle(.sessionEnded(failed: false, at: 10_000))
                == [.sendCancel, .reportUnanswered(why: "cancelled")])
        var failed = attempt()
        #expect(failed.handle(.sessionEnded(failed: true, at: 10_000)) == [.sendCancel, .reportUnanswered(why: "failed")])
        var late = attempt()
        #expect(late.handle(.sessionEnded(failed: false, at: 30_000)) == [.sendCancel, .reportUnanswered(why: "no-answer")])
    }

    @Test func thePeerGoneBeforeAnAnswerEndsTheCallAsRemote() {
        var offline = attempt()
        #expect(offline.handle(.peerGone(reason: "offline")) == [.endCall(.remote), .hangUp])
        #expect(offline.handle(.sessionEnded(failed: false, at: 1_000)) == [.reportUnanswered(why: "offline")])
        var hungUp = attempt()
        #expect(hungUp.handle(.peerHungUp) == [.endCall(.remote), .endAsHungUpByPeer])
        #expect(hungUp.handle(.sessionEnded(failed: false, at: 1_000)) == [.reportUnanswered(why: "hangup")])
    }

    /// One rule for LEAVE: a plain LEAVE (or EXPIRE) and a hang-up LEAVE end an answered call the same way.
    @Test func afterAnAnswerEveryLeaveEndsTheCallAsThePeersHangUp() {
        var a = attempt()
        _ = a.handle(.answer(sdp: "v=0"))
        #expect(a.handle(.peerGone(reason: "left")) == [.endAsHungUpByPeer])
        #expect(a.handle(.peerHungUp) == [.endAsHungUpByPeer])
        #expect(a.failure == nil)
    }
}
