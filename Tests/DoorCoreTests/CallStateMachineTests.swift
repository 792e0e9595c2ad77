import Synchronization
import Testing
@testable import DoorCore

/// Whole stories through the machine on a manual clock; single steps are in the table test.
@Suite struct CallStateMachineTests {
    typealias Machine = CallStateMachine
    let call = Machine.CallID(peer: "page-1", connectionId: "mc_1")
    static let secret = RoomSecret(bytes: Array(0..<16))!
    let link = RoomLink(webBase: "http://door.local:8080", code: "04321", secret: secret)

    func machine(_ configure: (inout Machine.Settings) -> Void = { _ in }) -> Machine {
        var settings = Machine.Settings()
        settings.webBase = "http://door.local:8080"
        configure(&settings)
        return Machine(settings: settings, makeCode: { "04321" }, makeSecret: { Self.secret })
    }

    @Test func doorbellOpensARoomWithItsLinkAndExpiryTimer() {
        var m = machine()
        let actions = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        #expect(actions == [.openRoom(code: "04321", link: link),
                            .startTimer(.roomExpiry, at: 120_000),
                            .show(.room(code: "04321", link: link.url, secondsLeft: 120))])
    }

    @Test func ringingAgainKeepsTheCodeAndMovesTheExpiry() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        let again = m.handle(.press(ButtonPress(.doorbell)), now: 100_000)
        #expect(again.first == .ringAgain(code: "04321", link: link))
        #expect(again.contains(.startTimer(.roomExpiry, at: 220_000)))
        #expect(m.handle(.tick, now: 219_000) == [.show(.room(code: "04321", link: link.url,
                                                             secondsLeft: 1))])
    }

    @Test func aTakenPeerIDMovesTheOpenRoomToAFreshCodeAndSecretWithTheSameCountdown() {
        let codes = Mutex(["11111", "11111", "22222"])
        let secrets = Mutex([Self.secret, RoomSecret(bytes: Array(16..<32))!])
        var m = Machine(settings: Machine.Settings(), makeCode: { codes.withLock { $0.removeFirst() } },
                        makeSecret: { secrets.withLock { $0.removeFirst() } })
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        // The fresh code is never the taken one.
        let actions = m.handle(.roomCodeTaken("11111"), now: 30_000)
        let fresh = RoomLink(webBase: "http://localhost:8080", code: "22222", secret: RoomSecret(bytes: Array(16..<32))!)
        #expect(actions == [.closeRoom(code: "11111"), .openRoom(code: "22222", link: fresh),
                            .show(.room(code: "22222", link: fresh.url, secondsLeft: 90))])
        #expect(m.phase.room?.code == "22222")
        // A stale report about the old code, or one while nothing is open, changes nothing.
        #expect(m.handle(.roomCodeTaken("11111"), now: 31_000) == [])
        var idle = machine()
        #expect(idle.handle(.roomCodeTaken("04321"), now: 0) == [])
    }

    /// The four policy combinations for one offer in an open room.
    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func policyDecidesWhatAnOfferBecomes(knocksNeedAnswer: Bool, autoAccept: Bool) {
        for proved in [false, true] {
            var m = machine { $0.knocksNeedAnswer = knocksNeedAnswer; $0.autoAcceptProvenCallers = autoAccept }
            _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
            let actions = m.handle(.offer(call, proved: proved), now: 1000)
            let accepted = proved || !knocksNeedAnswer
            switch m.phase.name {
            case "in-call": #expect(accepted && autoAccept && actions.first == .answer(call))
            case "incoming": #expect(accepted && !autoAccept && !actions.contains(.answer(call)))
            case "knock": #expect(!accepted && !actions.contains(.answer(call)))
            default: Issue.record("offer (proved: \(proved)) led to \(m.phase)")
            }
        }
    }

    @Test func knockIsAnsweredOnlyByTheAnswerButton() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        let knock = m.handle(.offer(call, proved: false), now: 1000)
        #expect(knock == [.startTimer(.knock, at: 31_000), .show(.knock(peer: "page-1", secondsLeft: 30))])
        for event: Machine.Event in [.tick, .press(ButtonPress(.mute)), .press(ButtonPress(.doorbell)), .callConnected(call)] {
            #expect(!m.handle(event, now: 2000).contains(.answer(call)))
        }
        let answered = m.handle(.press(ButtonPress(.answer)), now: 5000)
        #expect(answered.first == .answer(call))
        #expect(answered.contains(.cancelTimer(.knock)) && answered.contains(.cancelTimer(.roomExpiry)))
        #expect(m.phase.name == "in-call")
    }

    @Test func unansweredKnockIsRefusedAndTheRoomKeepsRinging() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call, proved: false), now: 1000)
        let refused = m.handle(.timer(.knock), now: 31_000)
        #expect(refused.first == .refuse(call, .timeout))
        #expect(m.phase == .room(Machine.Room(code: "04321", openedAt: 0, expiresAt: 120_000, secret: Self.secret)))
        // The next caller is a knock again.
        let next = Machine.CallID(peer: "page-2", connectionId: "mc_2")
        _ = m.handle(.offer(next, proved: false), now: 40_000)
        #expect(m.phase.pending?.call == next)
    }

    @Test func muteTogglesAndEachCallStartsUnmuted() {
        var m = machine { $0.knocksNeedAnswer = false }
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call, proved: false), now: 1000)
        #expect(m.handle(.press(ButtonPress(.mute)), now: 2000)
                == [.setMuted(true), .show(.inCall(peer: "page-1", seconds: 1, muted: true))])
        #expect(m.handle(.tick, now: 3000) == [.show(.inCall(peer: "page-1", seconds: 2, muted: true))])
        #expect(m.handle(.press(ButtonPress(.mute, long: true)), now: 4000).first == .setMuted(false))
        _ = m.handle(.press(ButtonPress(.mute)), now: 5000)
        _ = m.handle(.callEnded(call, .remote), now: 6000)
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 7000)
        let second = Machine.CallID(peer: "page-2", connectionId: "mc_2")
        let actions = m.handle(.offer(second, proved: false), now: 8000)
        #expect(actions.last == .show(.inCall(peer: "page-2", seconds: 0, muted: false)))
    }

    @Test func secondCallerDuringACallIsRefusedAsBusyAndTheCallGoesOn() {
        var m = machine { $0.knocksNeedAnswer = false }
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call, proved: false), now: 1000)
        _ = m.handle(.callConnected(call), now: 2000)
        let before = m.phase
        let other = Machine.CallID(peer: "page-2", connectionId: "mc_2")
        #expect(m.handle(.offer(other, proved: true), now: 3000) == [.refuse(other, .busy)])
        #expect(m.phase == before)
    }

    @Test func provedCallerIsNotKeptWaitingBehindAKnock() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        let knocker = Machine.CallID(peer: "stranger", connectionId: "mc_s")
        _ = m.handle(.offer(knocker, proved: false), now: 1000)
        let actions = m.handle(.offer(call, proved: true), now: 2000)
        #expect(actions.prefix(2) == [.refuse(knocker, .busy), .answer(call)])
    }

    @Test func mediaThatNeverConnectsIsHungUpAndTheRoomWaitsForTheNextCaller() {
        var m = machine { $0.knocksNeedAnswer = false }
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        let answered = m.handle(.offer(call, proved: false), now: 1000)
        #expect(answered.contains(.startTimer(.connect, at: 21_000)))
        let failed = m.handle(.timer(.connect), now: 21_000)
        #expect(failed == [.hangUp(call), .startTimer(.roomExpiry, at: 120_000),
                           .show(.room(code: "04321", link: link.url, secondsLeft: 99))])
        #expect(m.phase.name == "room" && m.phase.room?.code == "04321")
        // The session's own end arrives afterwards and changes nothing.
        #expect(m.handle(.callEnded(call, .local), now: 21_100).isEmpty)
        // The room's own countdown still ends it.
        _ = m.handle(.timer(.roomExpiry), now: 120_000)
        #expect(m.phase == .ending(reason: "Nobody answered", until: 123_000))
    }

    /// Issue 16, case 4: a phone behind a symmetric NAT without TURN finds no candidate pair; the call ends as
    /// failed, the room (same code, same link, same countdown) stays open, and a second caller gets in.
    @Test func aCallWhoseMediaFailsToConnectLeavesTheRoomOpenForTheNextCaller() {
        var m = machine { $0.knocksNeedAnswer = false }
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call, proved: true), now: 1000)
        let failed = m.handle(.callEnded(call, .failed), now: 12_000)
        #expect(!failed.contains(.closeRoom(code: "04321")))
        #expect(failed == [.startTimer(.roomExpiry, at: 120_000), .cancelTimer(.connect),
                           .show(.room(code: "04321", link: link.url, secondsLeft: 108))])
        #expect(m.phase.room?.code == "04321" && m.phase.room?.expiresAt == 120_000)
        let second = Machine.CallID(peer: "page-2", connectionId: "mc_2")
        let answered = m.handle(.offer(second, proved: true), now: 20_000)
        #expect(answered.first == .answer(second))
        #expect(m.handle(.callConnected(second), now: 21_000).contains(.cancelTimer(.connect)))
        // That call was up: when it ends, the visit is over and the room closes as before.
        let ended = m.handle(.callEnded(second, .failed), now: 60_000)
        #expect(ended.first == .closeRoom(code: "04321"))
        #expect(m.phase == .ending(reason: "Call failed", until: 63_000))
    }

    @Test func aCallThatFailsToConnectAfterTheRoomsCountdownClosesTheRoom() {
        var m = machine { $0.knocksNeedAnswer = false }
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call, proved: true), now: 110_000)
        let failed = m.handle(.callEnded(call, .failed), now: 125_000)
        #expect(failed.first == .closeRoom(code: "04321"))
        #expect(m.phase == .ending(reason: "Call failed", until: 128_000))
    }

    @Test func aCallerWhoHangsUpBeforeTheMediaConnectsStillClosesTheRoom() {
        var m = machine { $0.knocksNeedAnswer = false }
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call, proved: true), now: 1000)
        #expect(m.handle(.callEnded(call, .remote), now: 3000).first == .closeRoom(code: "04321"))
        #expect(m.phase == .ending(reason: "Call ended", until: 6000))
    }

    @Test func aCallerLostMidCallEndsTheCallAsLostAndFreesTheDoor() {
        var m = machine { $0.knocksNeedAnswer = false }
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call, proved: false), now: 1000)
        _ = m.handle(.callConnected(call), now: 2000)
        let lost = m.handle(.callEnded(call, .lost), now: 60_000)
        #expect(lost.contains(.show(.ended(reason: "Connection lost"))))
        #expect(m.phase == .ending(reason: "Connection lost", until: 63_000))
        _ = m.handle(.timer(.ending), now: 63_000)
        #expect(m.phase == .idle)
        // The next ring opens a room as usual.
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 64_000)
        #expect(m.phase.name == "room")
    }

    @Test func unansweredRoomExpiresAndTheEndedScreenGivesWayToIdle() {
        var m = machine()
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        #expect(m.handle(.tick, now: 119_999).count == 1)
        let expired = m.handle(.timer(.roomExpiry), now: 120_000)
        #expect(expired == [.closeRoom(code: "04321"), .startTimer(.ending, at: 123_000),
                            .show(.ended(reason: "Nobody answered"))])
        #expect(m.handle(.timer(.ending), now: 123_000) == [.show(.idle(doorName: "Front door"))])
    }

    @Test func endOfAStaleCallIsIgnored() {
        var m = machine { $0.knocksNeedAnswer = false }
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        _ = m.handle(.offer(call, proved: false), now: 1000)
        let before = m.phase
        let stale = Machine.CallID(peer: "page-1", connectionId: "mc_old")
        #expect(m.handle(.callEnded(stale, .remote), now: 2000).isEmpty)
        #expect(m.phase == before)
    }

    @Test func roomCodesAreFiveDigits() {
        for _ in 0..<200 {
            let code = RoomCode.random()
            #expect(code.count == 5 && code.allSatisfy(\.isNumber))
        }
    }
}
