import Testing
@testable import DoorCore

/// The two rules a shared visit encoder follows: keyframes at most once a window (the last request still served)
/// and the lowest phone's bitrate estimate within the ceiling and floor.
@Suite struct VisitRulesTests {
    // #expect cannot call a mutating method on its own.
    func ask(_ gate: inout KeyframeGate, _ now: Int64) -> KeyframeGate.Decision { gate.request(nowMicros: now) }
    func due(_ gate: inout KeyframeGate, _ now: Int64) -> Bool { gate.due(atMicros: now) }

    @Test func aFirstRequestGoesThroughAtOnce() {
        var gate = KeyframeGate(intervalMicros: 1_000_000)
        #expect(ask(&gate, 5_000_000) == .now)
    }

    @Test func requestsInsideTheWindowCollapseIntoOneAtItsEnd() {
        var gate = KeyframeGate(intervalMicros: 1_000_000)
        #expect(ask(&gate, 0) == .now)
        #expect(ask(&gate, 200_000) == .at(1_000_000))
        #expect(ask(&gate, 300_000) == .alreadyPending)
        #expect(ask(&gate, 900_000) == .alreadyPending)
        #expect(!due(&gate, 999_999))
        #expect(due(&gate, 1_000_000))
        #expect(!due(&gate, 1_000_001), "served twice")
        // The window starts again from the keyframe just made.
        #expect(ask(&gate, 1_500_000) == .at(2_000_000))
    }

    @Test func aRequestAfterTheWindowGoesThroughAtOnce() {
        var gate = KeyframeGate(intervalMicros: 1_000_000)
        #expect(ask(&gate, 0) == .now)
        #expect(ask(&gate, 1_000_000) == .now)
        #expect(ask(&gate, 2_500_000) == .now)
    }

    @Test func theLowestEstimateWinsWithinCeilingAndFloor() {
        let rule = VisitBitrate(ceilingKbps: 2000, floorKbps: 150)
        #expect(rule.target(estimatesKbps: []) == 2000)
        #expect(rule.target(estimatesKbps: [nil, nil]) == 2000)
        #expect(rule.target(estimatesKbps: [1800, 900, nil]) == 900)
        #expect(rule.target(estimatesKbps: [5000, 4000]) == 2000)
        #expect(rule.target(estimatesKbps: [40, 1800]) == 150)
    }

    @Test func aFloorAboveTheCeilingIsTheCeiling() {
        let rule = VisitBitrate(ceilingKbps: 100, floorKbps: 150)
        #expect(rule.target(estimatesKbps: [20]) == 100)
    }
}
