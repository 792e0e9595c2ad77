import DoorCore
import Testing
@testable import Buttons

/// Plays a timeline of raw edges the way the GPIO backend does (timers at each deadline) and returns what was
/// reported, with the time it was reported.
private func play(_ edges: [(Debouncer.Level, Int64)], until end: Int64,
                  _ debouncer: Debouncer = Debouncer(button: .doorbell)) -> [(press: ButtonPress, at: Int64)] {
    var debouncer = debouncer
    var reported: [(press: ButtonPress, at: Int64)] = []
    func runTimers(upTo time: Int64) {
        while let deadline = debouncer.nextDeadlineMillis, deadline <= time {
            reported += debouncer.advance(toMillis: deadline).map { ($0, deadline) }
        }
    }
    for (level, time) in edges {
        runTimers(upTo: time)
        reported += debouncer.feed(level, atMillis: time).map { ($0, time) }
    }
    runTimers(upTo: end)
    return reported
}

/// Contact bounce: the edge to `level` at `start`, then alternating edges within `span` ms, ending on `level`.
private func bouncing(to level: Debouncer.Level, at start: Int64, span: Int64, seed: UInt64) -> [(Debouncer.Level, Int64)] {
    let other: Debouncer.Level = level == .pressed ? .released : .pressed
    var edges = [(level, start)]
    guard span > 0 else { return edges }
    var state = seed
    var time = start
    while true {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let step = Int64((state >> 33) % 4) + 1  // 1…4 ms between bounce edges
        guard time + 2 * step <= start + span else { break }
        edges.append((other, time + step))
        edges.append((level, time + 2 * step))
        time += 2 * step
    }
    edges.append((level, start + span))  // a repeated level (the kernel can report one) changes nothing
    return edges
}

/// When the last of `edges` that changed the level happened (bounces end there; repeats change nothing).
private func lastChange(_ edges: [(Debouncer.Level, Int64)]) -> Int64 {
    var level: Debouncer.Level?
    var time = Int64.min
    for edge in edges where edge.0 != level {
        level = edge.0
        time = edge.1
    }
    return time
}

@Suite struct DebouncerTests {
    @Test(arguments: [0, 1, 3, 7, 12, 16, 20] as [Int64])
    func bouncesMakeExactlyOnePress(span: Int64) {
        let release = bouncing(to: .released, at: 1400, span: span, seed: UInt64(span) + 99)
        let edges = bouncing(to: .pressed, at: 1000, span: span, seed: UInt64(span) + 1) + release
        #expect(span < 5 || edges.count > 4)
        let reported = play(edges, until: 10_000)
        #expect(reported.map(\.press) == [ButtonPress(.doorbell)])
        // Reported once the release has settled: the debounce window after its last bounce.
        #expect(reported.first?.at == lastChange(release) + 30)
    }

    @Test func aTwoSecondHoldIsOneLongPressReportedAtTheThreshold() {
        let press = bouncing(to: .pressed, at: 0, span: 15, seed: 7)
        let reported = play(press + bouncing(to: .released, at: 2000, span: 15, seed: 8), until: 10_000)
        #expect(reported.map(\.press) == [ButtonPress(.doorbell, long: true)])
        // Counted from the moment the contact settled, not from the first bounce.
        #expect(lastChange(press) > 0)
        #expect(reported.first?.at == lastChange(press) + 1500)
    }

    @Test func aLongPressIsReportedFromEdgesAloneToo() {
        var debouncer = Debouncer(button: .mute)
        #expect(debouncer.feed(.pressed, atMillis: 0) == [])
        #expect(debouncer.feed(.released, atMillis: 2000) == [ButtonPress(.mute, long: true)])
        #expect(debouncer.advance(toMillis: 5000) == [])
    }

    @Test func twoPressesAHundredMillisecondsApartAreTwoPresses() {
        let clean = play([(.pressed, 0), (.released, 50), (.pressed, 100), (.released, 150)], until: 1000)
        #expect(clean.map(\.press) == [ButtonPress(.doorbell), ButtonPress(.doorbell)])
        #expect(clean.map(\.at) == [80, 180])

        let bouncy = bouncing(to: .pressed, at: 0, span: 8, seed: 1) + bouncing(to: .released, at: 50, span: 8, seed: 2)
            + bouncing(to: .pressed, at: 100, span: 8, seed: 3) + bouncing(to: .released, at: 150, span: 8, seed: 4)
        #expect(play(bouncy, until: 1000).map(\.press) == [ButtonPress(.doorbell), ButtonPress(.doorbell)])
    }

    @Test func aGlitchShorterThanTheWindowIsIgnored() {
        #expect(play([(.pressed, 100), (.released, 105)], until: 1000).isEmpty)
        #expect(play([(.pressed, 100), (.released, 129)], until: 1000).isEmpty)
    }

    @Test func releasedJustBeforeTheThresholdIsShort() {
        let reported = play([(.pressed, 0), (.released, 1499)], until: 5000)
        #expect(reported.map(\.press) == [ButtonPress(.doorbell)])
    }

    @Test func aGlitchDuringAHoldDoesNotSplitIt() {
        let reported = play([(.pressed, 0), (.released, 700), (.pressed, 710), (.released, 2500)], until: 5000)
        #expect(reported.map(\.press) == [ButtonPress(.doorbell, long: true)])
        #expect(reported.first?.at == 1500)
    }

    @Test func deadlinesTellWhenToCallAgain() {
        var debouncer = Debouncer(button: .answer, debounceMillis: 30, longPressMillis: 1500)
        #expect(debouncer.nextDeadlineMillis == nil)
        _ = debouncer.feed(.pressed, atMillis: 10)
        #expect(debouncer.nextDeadlineMillis == 40)
        #expect(debouncer.advance(toMillis: 40) == [])
        #expect(debouncer.isPressed)
        #expect(debouncer.nextDeadlineMillis == 1510)
        #expect(debouncer.advance(toMillis: 1509) == [])
        #expect(debouncer.advance(toMillis: 1510) == [ButtonPress(.answer, long: true)])
        #expect(debouncer.nextDeadlineMillis == nil)
        _ = debouncer.feed(.released, atMillis: 1600)
        #expect(debouncer.nextDeadlineMillis == 1630)
        #expect(debouncer.advance(toMillis: 1630) == [])
        #expect(!debouncer.isPressed)
    }

    @Test func zeroDebounceReportsOnTheReleaseEdge() {
        var debouncer = Debouncer(button: .decline, debounceMillis: 0, longPressMillis: 1000)
        #expect(debouncer.feed(.pressed, atMillis: 0) == [])
        #expect(debouncer.feed(.released, atMillis: 40) == [ButtonPress(.decline)])
    }

    @Test func timeNeverGoesBackwards() {
        var debouncer = Debouncer(button: .doorbell)
        _ = debouncer.feed(.pressed, atMillis: 1000)
        #expect(debouncer.advance(toMillis: 1100) == [])
        // An edge stamped earlier than what was seen counts as now.
        #expect(debouncer.feed(.released, atMillis: 900) == [])
        #expect(debouncer.advance(toMillis: 1130) == [ButtonPress(.doorbell)])
    }
}
