@testable import Display
import DoorCore
import MainLoop
import Testing

/// Records what reaches the screen; fails on demand like a full disk or an unplugged panel.
final class RecordingSink: DisplaySink {
    var shown: [Screen] = []
    var failure: DisplayError?

    func show(_ frame: Frame, screen: Screen) throws {
        if let failure { throw failure }
        shown.append(screen)
    }
}

@Suite struct DisplayTests {
    init() { GLibLoop.shared.start() }

    @Test func showsEachNewScreenOnceAndEveryCountdownTick() async throws {
        try await Self.showsEachNewScreenOnceAndEveryCountdownTick()
    }

    @Test func sinkFailureIsSurvivedAndRetried() async throws {
        try await Self.sinkFailureIsSurvivedAndRetried()
    }

    @GLibActor static func showsEachNewScreenOnceAndEveryCountdownTick() throws {
        let sink = RecordingSink()
        let display = try Display(sink: sink, width: 320, height: 240)
        let link = "http://10.200.0.1:8080/?room=12345"
        display.show(.idle(doorName: "Door"))
        display.show(.idle(doorName: "Door"))
        display.show(.room(code: "12345", link: link, secondsLeft: 120))
        display.show(.room(code: "12345", link: link, secondsLeft: 119))
        #expect(sink.shown == [
            .idle(doorName: "Door"),
            .room(code: "12345", link: link, secondsLeft: 120),
            .room(code: "12345", link: link, secondsLeft: 119),
        ])
        #expect(display.current == .room(code: "12345", link: link, secondsLeft: 119))
    }

    @GLibActor static func sinkFailureIsSurvivedAndRetried() throws {
        let sink = RecordingSink()
        let display = try Display(sink: sink, width: 320, height: 240)
        sink.failure = .noDisplay("unplugged")
        display.show(.ended(reason: "Call ended"))
        #expect(display.current == nil)
        sink.failure = nil
        display.show(.ended(reason: "Call ended"))
        #expect(sink.shown == [.ended(reason: "Call ended")])
        #expect(display.current == .ended(reason: "Call ended"))
    }
}
