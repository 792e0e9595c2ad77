import DoorCore
@testable import Door
import MainLoop
import Signaling
import Testing

/// One record per call (`CallRecord`, `CallTable`): what the device keeps about a call and when it forgets it.
@Suite struct CallTableTests {
    typealias CallID = CallStateMachine.CallID
    static let call = CallID(peer: "page-1", connectionId: "mc_1")

    static func offer(_ connectionId: String = "mc_1") -> ConnectionPayload {
        ConnectionPayload(sdp: SessionDescription(type: "offer", sdp: "v=0\r\n"), type: .media, connectionId: connectionId)
    }

    init() { GLibLoop.shared.start() }

    /// Its candidates wait in the room's `PeerJSRouter` (PeerJSRouterTests), not in the record.
    @Test func anOfferIsKeptWithItsDoor() async {
        let (door, offer) = await { @GLibActor in
            let calls = CallTable()
            calls.update(Self.call, door: .knock) { $0.offer = Self.offer() }
            return (calls[Self.call]?.door, calls[Self.call]?.offer?.connectionId)
        }()
        #expect(door == .knock)
        #expect(offer == "mc_1")
    }

    @Test func aRefusedOfferLeavesNothingBehind() async {
        let left = await { @GLibActor in
            let calls = CallTable()
            calls.update(Self.call, door: .room) { $0.offer = Self.offer() }
            calls.amend(Self.call) { $0.offer = nil }
            return calls.records.count
        }()
        #expect(left == 0)
    }

    @Test func theRoomClosingDropsWaitingOffersButKeepsAPlacedCall() async {
        let (records, dialKept) = await { @GLibActor in
            let calls = CallTable()
            let placed = CallID(peer: "resident", connectionId: "mc_2")
            calls.update(Self.call, door: .room) { $0.offer = Self.offer() }
            calls.update(placed) { $0.dial = DialAttempt(call: placed, deadline: 30_000, metadata: .null) }
            calls.roomClosed()
            return (calls.records.count, calls.dials.map(\.call) == [placed])
        }()
        #expect(records == 1)
        #expect(dialKept)
    }

    @Test func aPendingHangUpLeaveKeepsTheRecordUntilItIsSaid() async {
        let (saying, afterSaid) = await { @GLibActor in
            let calls = CallTable()
            calls.update(Self.call, door: .room) { $0.hangUpLeave = GLibTimer(milliseconds: 60_000) {} }
            let saying = calls.sayingHangUps
            calls.amend(Self.call) { $0.hangUpLeave = nil }
            return (saying, calls.records.count)
        }()
        #expect(saying)
        #expect(afterSaid == 0)
    }
}
