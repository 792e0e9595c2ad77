import Testing
@testable import Signaling

/// The host's per-address count and per-turn frame budget, as plain values (the flood tests in
/// suites/hostile drive the same rules through real sockets).
@Suite struct ConnectionsPerAddressTests {
    let first = OpaquePointer(bitPattern: 0x1000)!
    let second = OpaquePointer(bitPattern: 0x2000)!
    let third = OpaquePointer(bitPattern: 0x3000)!

    @Test func anAddressAtItsLimitIsFullUntilOneOfItsConnectionsCloses() {
        var count = ConnectionsPerAddress()
        count.limit = 2
        count.opened(first, from: "10.0.0.7")
        #expect(!count.isFull("10.0.0.7"))
        count.opened(second, from: "10.0.0.7")
        #expect(count.isFull("10.0.0.7"))
        #expect(!count.isFull("10.0.0.8"))
        count.closed(first)
        #expect(!count.isFull("10.0.0.7"))
        // A connection it never counted closing changes nothing.
        count.closed(third)
        count.opened(third, from: "10.0.0.7")
        #expect(count.isFull("10.0.0.7"))
    }

    @Test func uncountedAddressesAndNoLimitAreNeverFull() {
        var count = ConnectionsPerAddress()
        count.opened(first, from: "10.0.0.7")
        #expect(!count.isFull("10.0.0.7"))
        count.limit = 1
        #expect(!count.isFull("10.0.0.7")) // opened before there was a limit: not counted
        count.opened(second, from: "127.0.0.1")
        count.opened(third, from: "127.0.0.1")
        #expect(!count.isFull("127.0.0.1"))
        count.uncounted = []
        count.opened(second, from: "127.0.0.2")
        #expect(count.isFull("127.0.0.2"))
    }

    @Test func aTurnCountsFramesPerSocketAndHandsBackThePausedOnesOnce() {
        var turn = FramesThisTurn()
        #expect(turn.isEmpty)
        #expect(turn.count(first) == 1)
        #expect(turn.count(first) == 2)
        #expect(turn.count(second) == 1)
        turn.pause(first)
        #expect(!turn.isEmpty)
        #expect(turn.end() == [first])
        #expect(turn.isEmpty)
        #expect(turn.end().isEmpty)
        #expect(turn.count(first) == 1)
    }
}
