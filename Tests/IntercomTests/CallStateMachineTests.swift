import Testing
@testable import Intercom

@Suite struct CallStateMachineTests {
    typealias Machine = CallStateMachine
    let call = Machine.CallID(peer: "page-1", connectionId: "mc_1")

    func machine() -> Machine {
        var settings = Machine.Settings()
        settings.webBase = "http://door.local:8080"
        settings.roomLifetimeMillis = 120_000
        return Machine(settings: settings, makeCode: { "04321" })
    }

    @Test func doorbellOpensARoomWithItsLink() {
        var m = machine()
        let actions = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        #expect(actions == [.openRoom(code: "04321", link: "http://door.local:8080/?room=04321"),
                            .show(.room(code: "04321", link: "http://door.local:8080/?room=04321", secondsLeft: 120))])
    }

    @Test func ringingAgainKeepsTheCodeAndRestartsTheCountdown() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        let again = m.handle(.press(ButtonPress(.doorbell)), now: 100_000)
        #expect(again == [.show(.room(code: "04321", link: "http://door.local:8080/?room=04321", secondsLeft: 120))])
        #expect(m.handle(.tick, now: 219_000).first == .show(.room(code: "04321", link: "http://door.local:8080/?room=04321", secondsLeft: 1)))
    }

    @Test func offerInOpenRoomIsAnsweredAndASecondCallerIsIgnored() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        #expect(m.handle(.offer(call), now: 1000).first == .answer(call))
        let other = Machine.CallID(peer: "page-2", connectionId: "mc_2")
        #expect(m.handle(.offer(other), now: 2000) == [.ignore(other, reason: "busy: already in a call")])
    }

    @Test func offerWithNoRoomIsIgnored() {
        var m = machine()
        #expect(m.handle(.offer(call), now: 0) == [.ignore(call, reason: "no room is open")])
    }

    @Test func remoteHangUpClosesTheRoomWithoutHangingUpAgain() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call), now: 1000)
        let actions = m.handle(.callEnded(call, .remote), now: 5000)
        #expect(!actions.contains(.hangUp(call)))
        #expect(actions.contains(.closeRoom(code: "04321")))
        #expect(m.phase == .idle)
    }

    @Test func declineAndControlHangUpEndTheCall() {
        for event in [Machine.Event.press(ButtonPress(.decline)), .hangUpRequested] {
            var m = machine()
            _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
            _ = m.handle(.offer(call), now: 1000)
            let actions = m.handle(event, now: 2000)
            #expect(actions.first == .hangUp(call))
            #expect(m.phase == .idle)
        }
    }

    @Test func unansweredRoomExpires() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        #expect(m.handle(.tick, now: 119_999).count == 1)
        let expired = m.handle(.tick, now: 120_000)
        #expect(expired.first == .closeRoom(code: "04321"))
        #expect(m.phase == .idle)
    }

    @Test func endOfAStaleCallIsIgnored() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call), now: 1000)
        let stale = Machine.CallID(peer: "page-1", connectionId: "mc_old")
        #expect(m.handle(.callEnded(stale, .remote), now: 2000).isEmpty)
        #expect(m.phase == .inCall(Machine.Room(code: "04321", openedAt: 0, expiresAt: 120_000), call, since: 1000))
    }

    @Test func roomCodesAreFiveDigits() {
        for _ in 0..<200 {
            let code = RoomCode.random()
            #expect(code.count == 5 && code.allSatisfy(\.isNumber))
        }
    }
}
