import DoorCore
import Testing

@Suite struct DistinctLimiterTests {
    @Test func countsDistinctItemsPerKeyWithinTheWindow() {
        var limiter = DistinctLimiter<String, String>(limit: 2, windowMillis: 1_000)
        #expect(limiter.allow("a", "x", now: 0) == true)
        #expect(limiter.allow("a", "y", now: 10) == true)
        // An item already counted costs nothing; a third distinct one is refused.
        #expect(limiter.allow("a", "x", now: 20) == true)
        #expect(limiter.allow("a", "z", now: 30) == false)
        // Another key has its own budget.
        #expect(limiter.allow("b", "z", now: 30) == true)
        // Once the window has passed, the key may reach new items again.
        #expect(limiter.allow("a", "z", now: 1_011) == true)
    }

    @Test func keysAreBounded() {
        var limiter = DistinctLimiter<Int, Int>(limit: 1, windowMillis: 1_000_000, maxKeys: 8)
        for key in 0..<100 { #expect(limiter.allow(key, 1, now: Int64(key)) == true) }
        #expect(limiter.trackedKeys <= 8)
    }
}
