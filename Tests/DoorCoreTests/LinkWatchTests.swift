import Testing
@testable import DoorCore

@Suite struct LinkWatchTests {
    @Test func aPeerThatNeverSendsAKeepaliveIsNeverWatched() {
        var watch = LinkWatch(limitMillis: 5000)
        watch.heard(at: 0, keepalive: false)
        #expect(watch.check(at: 60_000) == .unwatched)
        #expect(!watch.isArmed)
    }

    @Test func aKeepalivingPeerStaysAliveAndIsLostAtTheLimitAfterItsLastWord() {
        var watch = LinkWatch(limitMillis: 5000)
        for second in 0...10 { watch.heard(at: Int64(second) * 1000, keepalive: true) }
        // Checked from the last keepalive on, every period: lost at the first check at or past 15 000.
        var now: Int64 = 10_000
        var verdict = watch.check(at: now)
        while verdict == .alive {
            now += LinkWatch.checkEveryMillis
            verdict = watch.check(at: now)
        }
        #expect(now == 15_000)
        #expect(verdict == .lost(silenceMillis: 5000))
    }

    @Test func anyMessageFeedsAnArmedWatch() {
        var watch = LinkWatch(limitMillis: 3000)
        watch.heard(at: 0, keepalive: true)
        watch.heard(at: 2500, keepalive: false)
        #expect(watch.check(at: 2750) == .alive)
        #expect(watch.check(at: 5250) == .alive)
        #expect(watch.check(at: 5500) == .lost(silenceMillis: 3000))
    }

    @Test func aLateCheckDecidesNothingAndTheNextOneDoes() {
        var watch = LinkWatch(limitMillis: 5000)
        watch.heard(at: 0, keepalive: true)
        #expect(watch.check(at: 250) == .alive)
        // The loop was held up for 6 s: what arrived meanwhile may still be queued.
        #expect(watch.check(at: 6250) == .alive)
        #expect(watch.check(at: 6500) == .lost(silenceMillis: 6500))
        // Had a message been queued behind the late check, it would have landed first.
        var fed = LinkWatch(limitMillis: 5000)
        fed.heard(at: 0, keepalive: true)
        _ = fed.check(at: 250)
        #expect(fed.check(at: 6250) == .alive)
        fed.heard(at: 6300, keepalive: true)
        #expect(fed.check(at: 6500) == .alive)
    }

    @Test func anOutOfOrderStampNeverMovesTheLastWordBack() {
        var watch = LinkWatch(limitMillis: 5000)
        watch.heard(at: 4000, keepalive: true)
        watch.heard(at: 3000, keepalive: false)
        #expect(watch.lastHeard == 4000)
        #expect(watch.check(at: 8750) == .alive)
        #expect(watch.check(at: 9000) == .lost(silenceMillis: 5000))
    }
}
