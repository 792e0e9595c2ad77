import DoorCore
import Signaling
import Testing

@Suite struct LeavePayloadTests {
    @Test func aHangUpNamesItsConnectionAndReadsBack() throws {
        let message = PeerJSMessage.leave(to: "page-1", .hangUp(connectionId: "mc_1"))
        #expect(message.type == .leave && message.dst == "page-1")
        #expect(message.payload == ["reason": "hangup", "connectionId": "mc_1"])
        let echoed = try PeerJSMessage.decode(message.encoded())
        #expect(echoed.leave?.hungUpConnectionId == "mc_1")
    }

    @Test func aStockLeaveOrARefusalHangsUpNoSingleCall() {
        #expect(PeerJSMessage(type: .leave, src: "page-1").leave == LeavePayload(reason: nil, connectionId: nil))
        #expect(PeerJSMessage(type: .leave, src: "page-1").leave?.hungUpConnectionId == nil)
        let declined = LeavePayload(["reason": "declined", "connectionId": "mc_1"])
        #expect(declined.reason == "declined" && declined.hungUpConnectionId == nil)
        // A hang-up without a connectionId names no call either.
        #expect(LeavePayload(["reason": "hangup"]).hungUpConnectionId == nil)
    }

    @Test func fieldsOfTheWrongTypeAreAbsentAndOnlyLeavesHaveOne() {
        let odd = LeavePayload(["reason": .number(7), "connectionId": .array([.string("mc_1")])])
        #expect(odd == LeavePayload(reason: nil, connectionId: nil))
        #expect(odd.json == [:])
        #expect(PeerJSMessage(type: .expire, src: "page-1").leave == nil)
    }

    /// The one LEAVE rule: a hang-up ends only the connection it names, any other LEAVE every connection.
    @Test func aHangUpEndsItsConnectionAndAnyOtherLeaveEndsAll() {
        let hangUp = LeavePayload.hangUp(connectionId: "mc_1")
        #expect(hangUp.ends(connectionId: "mc_1"))
        #expect(!hangUp.ends(connectionId: "mc_2") && !hangUp.ends(connectionId: "dc_1"))
        for plain in [LeavePayload(nil), LeavePayload(reason: "left", connectionId: nil),
                      LeavePayload(reason: "declined", connectionId: "mc_1"), LeavePayload(["reason": "hangup"])] {
            #expect(plain.ends(connectionId: "mc_1") && plain.ends(connectionId: "mc_2"), "\(plain)")
        }
    }
}
