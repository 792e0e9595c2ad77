import Admission
import DoorCore
import Testing

@Suite struct KnockLimiterTests {
    @Test func eachSenderHasItsOwnShareAndEveryoneACap() {
        var limits = KnockLimiter.Limits()
        limits.perSender = 3
        limits.total = 5
        var limiter = KnockLimiter(limits: limits)
        // One caller knocking over and over spends only its own three.
        for _ in 0..<3 { #expect(limiter.admit(sender: "a", now: 0) == .allow) }
        #expect(limiter.admit(sender: "a", now: 1) == .senderLimited)
        #expect(limiter.admit(sender: "a", now: 2) == .senderLimited)
        // Its refused knocks did not count against everyone: two more callers get in.
        #expect(limiter.admit(sender: "b", now: 3) == .allow)
        #expect(limiter.admit(sender: "c", now: 4) == .allow)
        #expect(limiter.admit(sender: "d", now: 5) == .everyoneLimited)
        // A minute later everyone may knock again.
        #expect(limiter.admit(sender: "a", now: 60_001) == .allow)
        #expect(limiter.admit(sender: "d", now: 60_002) == .allow)
    }

    @Test func theRoomGateAnswersAKnockOverTheLimit() {
        let link = RoomLink(webBase: "http://door.local", code: "04321", secret: RoomSecret(bytes: Array(0..<16))!)
        var gate = RoomGate(link: link, prefix: "intercom-")
        func knock(_ peer: String, _ n: Int) -> RoomGate.Verdict {
            gate.admit(JoinOffer(call: .init(peer: peer, connectionId: "mc_\(n)"), addressedTo: gate.knockPeerID,
                                 sdp: "v=0\r\n", metadata: nil), now: Int64(n) * 100)
        }
        for n in 0..<3 { #expect(knock("stranger", n) == .knock) }
        #expect(knock("stranger", 3) == .knockLimited)
        #expect(knock("visitor", 4) == .knock)
        #expect(gate.counts["knock-limited"] == 1)
    }
}
