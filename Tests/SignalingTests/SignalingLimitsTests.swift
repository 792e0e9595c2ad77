import DoorCore
import Testing
@testable import Signaling

@Suite struct SignalingLimitsTests {
    func offer(_ src: String, _ id: String, sdp: String = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n") -> PeerJSMessage {
        PeerJSMessage(type: .offer, src: src, dst: "door",
                      payload: ["sdp": ["type": "offer", "sdp": .string(sdp)], "type": "media", "connectionId": .string(id)])
    }

    func candidate(_ src: String, _ id: String) -> PeerJSMessage {
        PeerJSMessage(type: .candidate, src: src, dst: "door",
                      payload: ["candidate": ["candidate": "candidate:1 1 udp 1 10.0.0.1 5000 typ host", "sdpMLineIndex": 0],
                                "type": "media", "connectionId": .string(id)])
    }

    @Test func aBurstIsAllowedThenThePeerIsHeldToItsRate() {
        var settings = SignalingLimits.Settings()
        settings.candidatesPerConnection = 10_000
        var limits = SignalingLimits(settings: settings)
        let accepted = (0..<100).filter { _ in limits.admit(candidate("p", "mc_1"), now: 0) == .accept }.count
        #expect(accepted == settings.burst)
        // Another peer has its own bucket.
        #expect(limits.admit(candidate("q", "mc_2"), now: 0) == .accept)
        // Half a second refills ten tokens at 20/s.
        let later = (0..<100).filter { _ in limits.admit(candidate("p", "mc_1"), now: 500) == .accept }.count
        #expect(later == 10)
    }

    @Test func offersCanBeLeftToAnOfferGate() {
        var settings = SignalingLimits.Settings()
        settings.rateLimitsOffers = false
        var limits = SignalingLimits(settings: settings)
        #expect((0..<200).allSatisfy { limits.admit(offer("p", "mc_\($0)"), now: 0) == .accept })
        let candidates = (0..<100).filter { _ in limits.admit(candidate("p", "mc_1"), now: 0) == .accept }.count
        #expect(candidates == settings.burst)
    }

    @Test func sdpSizeAndMediaSectionsAreBounded() {
        var limits = SignalingLimits()
        let big = "v=0\r\n" + String(repeating: "a=x\r\n", count: 8000)
        #expect(limits.admit(offer("p", "mc_1", sdp: big), now: 0) != .accept)
        let nine = "v=0\r\n" + String(repeating: "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n", count: 9)
        #expect(limits.admit(offer("p", "mc_2", sdp: nine), now: 0) == .drop("SDP with 9 m-lines (limit 8)"))
        // "m=" inside a line is not an m-line.
        let three = "v=0\r\nm=audio 1\r\na=tool:xm=y\r\nm=video 1\r\nm=application 1\r\n"
        #expect(SignalingLimits.mediaSections(three) == 3)
        #expect(limits.admit(offer("p", "mc_3", sdp: three), now: 0) == .accept)
    }

    @Test func candidatesPerConnectionAreCountedUntilReleased() {
        var limits = SignalingLimits()
        for i in 0..<64 { #expect(limits.admit(candidate("p", "mc_1"), now: Int64(i) * 100) == .accept) }
        #expect(limits.admit(candidate("p", "mc_1"), now: 10_000) != .accept)
        #expect(limits.admit(candidate("p", "mc_2"), now: 10_000) == .accept)
        limits.release(peer: "p", connectionId: "mc_1")
        #expect(limits.admit(candidate("p", "mc_1"), now: 10_000) == .accept)
    }

    @Test func concurrentIncomingConnectionsAreBounded() {
        var limits = SignalingLimits()
        // Offers the owner throws away take no slot.
        for i in 0..<20 { #expect(limits.admit(offer("x\(i)", "mc_\(i)"), now: 0) == .accept) }
        #expect(limits.openConnections == 0)
        for i in 0..<8 {
            #expect(limits.admit(offer("p\(i)", "mc_\(i)"), now: 0) == .accept)
            limits.opened(peer: "p\(i)", connectionId: "mc_\(i)")
        }
        #expect(limits.openConnections == 8)
        #expect(limits.admit(offer("late", "mc_x"), now: 0) == .drop("8 connections already open"))
        // The same connection offering again (PeerJS replaces it) is not a new one.
        #expect(limits.admit(offer("p0", "mc_0"), now: 0) == .accept)
        limits.release(peer: "p3", connectionId: "mc_3")
        #expect(limits.admit(offer("late", "mc_x"), now: 0) == .accept)
        limits.reset()
        #expect(limits.openConnections == 0)
    }

    @Test func messagesWithoutASourceAreDropped() {
        var limits = SignalingLimits()
        #expect(limits.admit(PeerJSMessage(type: .candidate, dst: "door"), now: 0) == .drop("no src"))
    }
}

@Suite struct ReconnectBackoffTests {
    @Test func delaysDoubleWithJitterUpToTheCap() {
        let backoff = ReconnectBackoff()
        var random = SplitMix64(seed: 3)
        for attempt in 1...12 {
            let base = min(250 << (attempt - 1), 3000)
            let delays = (0..<200).map { _ in backoff.delayMillis(attempt: attempt, using: &random) }
            #expect(delays.allSatisfy { Int($0) >= base / 2 && Int($0) <= base }, "attempt \(attempt)")
            // Jitter: not all the same.
            #expect(Set(delays).count > 10, "attempt \(attempt)")
        }
        // Far past the cap: still capped, no overflow.
        #expect(backoff.delayMillis(attempt: 10_000) <= 3000)
    }
}
