import Testing
@testable import DoorCore

@Suite struct PairingGateTests {
    func offer(_ peer: String, _ connectionId: String, at: Int64 = 1_000) -> PairingGate.Event {
        .offer(peer: peer, connectionId: connectionId, at: at)
    }

    @Test func withNoWindowEverOpenEveryOfferIsRefused() {
        var gate = PairingGate()
        for n in 0..<6 {
            #expect(gate.handle(offer("stranger-\(n)", "dc_\(n)")) == [.refuse(connectionId: "dc_\(n)", peer: "stranger-\(n)", .windowClosed)])
        }
        #expect(gate.connections.isEmpty)
    }

    @Test func anOpenWindowTakesOffersUpToTheLimit() {
        var settings = PairingGate.Settings()
        settings.maxConnections = 2
        var gate = PairingGate(settings: settings)
        _ = gate.handle(.windowOpened)
        #expect(gate.handle(offer("a", "dc_a")) == [.accept(connectionId: "dc_a")])
        #expect(gate.handle(offer("b", "dc_b")) == [.accept(connectionId: "dc_b")])
        #expect(gate.handle(offer("c", "dc_c")) == [.refuse(connectionId: "dc_c", peer: "c", .tooMany)])
        // A closed connection frees its slot.
        #expect(gate.handle(.closed(connectionId: "dc_a")) == [])
        #expect(gate.handle(offer("c", "dc_c2")) == [.accept(connectionId: "dc_c2")])
        #expect(gate.connections == ["dc_b": "b", "dc_c2": "c"])
    }

    @Test func aPeersNewerOfferReplacesItsOlderOne() {
        var gate = PairingGate()
        _ = gate.handle(.windowOpened)
        #expect(gate.handle(offer("a", "dc_1")) == [.accept(connectionId: "dc_1")])
        #expect(gate.handle(offer("a", "dc_2")) == [.close(connectionId: "dc_1"), .accept(connectionId: "dc_2")])
        #expect(gate.connections == ["dc_2": "a"])
    }

    @Test func aPeerCannotHoldEverySlotAlone() {
        var gate = PairingGate()
        _ = gate.handle(.windowOpened)
        for n in 0..<10 { _ = gate.handle(offer("stranger", "dc_\(n)")) }
        #expect(gate.connections == ["dc_9": "stranger"])
        #expect(gate.handle(offer("phone", "dc_phone")) == [.accept(connectionId: "dc_phone")])
    }

    @Test func offersAreTakenShortlyAfterTheWindowClosedThenNoLonger() {
        var gate = PairingGate()
        _ = gate.handle(.windowOpened)
        _ = gate.handle(.windowClosed(at: 10_000))
        let late = gate.settings.lateMillis
        #expect(gate.handle(offer("a", "dc_1", at: 10_000 + late)) == [.accept(connectionId: "dc_1")])
        #expect(gate.handle(offer("b", "dc_2", at: 10_001 + late)) == [.refuse(connectionId: "dc_2", peer: "b", .windowClosed)])
        // A clock that stepped back before the close does not reopen it either.
        #expect(gate.handle(offer("c", "dc_3", at: 9_000)) == [.refuse(connectionId: "dc_3", peer: "c", .windowClosed)])
    }

    @Test func aCloseWithoutAnOpenWindowKeepsTheEarlierCloseTime() {
        var gate = PairingGate()
        _ = gate.handle(.windowClosed(at: 5_000))
        #expect(gate.closedAt == nil)
        _ = gate.handle(.windowOpened)
        _ = gate.handle(.windowClosed(at: 6_000))
        _ = gate.handle(.windowClosed(at: 90_000))
        #expect(gate.closedAt == 6_000)
        #expect(!gate.takesOffers(at: 90_000))
    }
}
