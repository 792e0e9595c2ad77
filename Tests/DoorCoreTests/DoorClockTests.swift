import DoorCore
import Synchronization
import Testing

/// The clock seam: deadlines on the monotonic clock, dates converted at the edge. A fake pair of clocks shows
/// that an NTP step of the wall clock during a ring moves neither the countdown on the screen nor the timer
/// that closes the room, and does move the date a notice carries.
@Suite struct DoorClockTests {
    /// Two clocks a test sets by hand.
    final class Hands: Sendable {
        let monotonic = Atomic<Int64>(5_000)
        let wall = Atomic<Int64>(1_000_000)  // 1970, as a Pi without RTC believes before NTP
        var clock: DoorClock {
            DoorClock(monotonicMillis: { self.monotonic.load(ordering: .relaxed) },
                      wallMillis: { self.wall.load(ordering: .relaxed) })
        }
        func advance(_ millis: Int64) {
            monotonic.add(millis, ordering: .relaxed)
            wall.add(millis, ordering: .relaxed)
        }
        func stepWall(_ millis: Int64) { wall.add(millis, ordering: .relaxed) }
    }

    @Test func anNTPStepDuringARingMovesNeitherTheCountdownNorTheTimer() {
        let hands = Hands()
        let clock = hands.clock
        var machine = CallStateMachine()
        let opened = machine.handle(.press(ButtonPress(.doorbell)), now: clock.monotonicMillis())
        let expiry = opened.compactMap { action -> Int64? in
            if case .startTimer(.roomExpiry, let at) = action { return at }
            return nil
        }.first
        guard let expiry else {
            Issue.record("no room expiry timer in \(opened)")
            return
        }
        #expect(clock.delay(until: expiry) == 120_000)
        let noticeDateBefore = clock.wallTime(ofMonotonic: expiry)

        hands.advance(10_000)
        hands.stepWall(1_733_000_000_000)  // NTP sets the date: 55 years forward at once
        #expect(clock.delay(until: expiry) == 110_000, "the room timer moved with the wall clock")
        #expect(secondsLeft(machine.handle(.tick, now: clock.monotonicMillis())) == 110)
        #expect(clock.wallTime(ofMonotonic: expiry) == noticeDateBefore + 1_733_000_000_000,
                "the date a notice carries follows the wall clock")

        hands.stepWall(-3_600_000)  // and back an hour
        #expect(clock.delay(until: expiry) == 110_000)
        #expect(secondsLeft(machine.handle(.tick, now: clock.monotonicMillis())) == 110)
    }

    @Test func aDeadlineThatPassedIsDueNow() {
        let hands = Hands()
        #expect(hands.clock.delay(until: 4_000) == 0)
        #expect(hands.clock.delay(until: 5_000) == 0)
        #expect(hands.clock.delay(until: 5_001) == 1)
        #expect(hands.clock.delay(until: .max) == UInt32.max)
    }

    @Test func theSystemMonotonicClockNeverGoesBack() {
        var last = DoorClock.system.monotonicMillis()
        for _ in 0..<10_000 {
            let now = DoorClock.system.monotonicMillis()
            #expect(now >= last)
            last = now
        }
        let wallNow = DoorClock.system.wallMillis()
        #expect(abs(DoorClock.system.wallTime(ofMonotonic: DoorClock.system.monotonicMillis()) - wallNow) < 1_000)
    }

    private func secondsLeft(_ actions: [CallStateMachine.Action]) -> Int? {
        for case .show(let screen) in actions {
            if case .room(_, _, let seconds) = screen { return seconds }
        }
        return nil
    }
}
