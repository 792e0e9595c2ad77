import Testing
@testable import DoorCore

/// The household visit in the machine (docs/household.md): paired browsers join a call a paired browser
/// answered, up to `maxPhones`; leaving is per phone; strangers keep the one-caller rule.
@Suite struct CallStateMachineHouseholdTests {
    typealias Machine = CallStateMachine
    typealias CallID = Machine.CallID
    static let secret = RoomSecret(bytes: Array(0..<16))!
    let anna = CallID(peer: "anna", connectionId: "mc_a")
    let bob = CallID(peer: "bob", connectionId: "mc_b")
    let cleo = CallID(peer: "cleo", connectionId: "mc_c")
    let dan = CallID(peer: "dan", connectionId: "mc_d")
    let stranger = CallID(peer: "stranger", connectionId: "mc_s")

    func ringing(_ configure: (inout Machine.Settings) -> Void = { _ in }) -> Machine {
        var settings = Machine.Settings()
        configure(&settings)
        var m = Machine(settings: settings, makeCode: { "04321" }, makeSecret: { Self.secret })
        _ = m.handle(.press(ButtonPress(.doorbell)), now: 0)
        return m
    }

    /// Anna answers, Bob and Cleo join: Anna first, then the others in the order they came.
    func visitOfThree() -> Machine {
        var m = ringing()
        _ = m.handle(.pairedOffer(anna), now: 1000)
        _ = m.handle(.callConnected(anna), now: 1500)
        _ = m.handle(.pairedOffer(bob), now: 2000)
        _ = m.handle(.pairedOffer(cleo), now: 3000)
        return m
    }

    func members(_ m: Machine) -> [CallID] {
        guard case .inCall(_, let active) = m.phase else { return [] }
        return active.members
    }

    @Test func aPairedAnswerIsAVisitOthersJoinUpToTheMaximum() {
        var m = ringing()
        let answered = m.handle(.pairedOffer(anna), now: 1000)
        #expect(answered.first == .answer(anna))
        guard case .inCall(_, let active) = m.phase else { Issue.record("not in a call: \(m.phase)"); return }
        #expect(active.household)
        _ = m.handle(.callConnected(anna), now: 1500)

        let joined = m.handle(.pairedOffer(bob), now: 2000)
        #expect(joined == [.join(bob), .show(.visit(peers: ["anna", "bob"], seconds: 1, muted: false))])
        #expect(m.handle(.pairedOffer(cleo), now: 3000).first == .join(cleo))
        #expect(members(m) == [anna, bob, cleo])
        // The fourth is refused with a reason of its own; nobody on the visit is touched.
        #expect(m.handle(.pairedOffer(dan), now: 4000) == [.refuse(dan, .full)])
        #expect(members(m) == [anna, bob, cleo])
    }

    @Test func aStrangerKeepsTheOneCallerRule() {
        // A stranger with the room link in a household visit: busy.
        var visit = visitOfThree()
        #expect(visit.handle(.offer(stranger, proved: true), now: 5000) == [.refuse(stranger, .busy)])
        // A stranger's call is not a visit: a paired browser cannot join it.
        var m = ringing()
        _ = m.handle(.offer(stranger, proved: true), now: 1000)
        #expect(m.handle(.pairedOffer(anna), now: 2000) == [.refuse(anna, .busy)])
        #expect(members(m) == [stranger])
    }

    @Test func oneMaximumPhoneMeansNoJoins() {
        var m = ringing { $0.maxPhones = 1 }
        _ = m.handle(.pairedOffer(anna), now: 1000)
        #expect(m.handle(.pairedOffer(bob), now: 2000) == [.refuse(bob, .busy)])
    }

    @Test func theSamePhoneAgainIsIgnoredNotRefused() {
        var m = visitOfThree()
        #expect(m.handle(.pairedOffer(bob), now: 4000) == [.ignore(bob, reason: "the running call offered again")])
        // A LEAVE "full" to Bob's peer would close its running call: a second connection is ignored.
        let bobAgain = CallID(peer: "bob", connectionId: "mc_b2")
        #expect(m.handle(.pairedOffer(bobAgain), now: 4000) == [.ignore(bobAgain, reason: "already in a call with this peer")])
    }

    @Test func aPhoneLeavingLeavesTheOthersOnAndTheLastOneEndsTheCall() {
        var m = visitOfThree()
        #expect(m.handle(.callEnded(bob, .remote), now: 5000)
                == [.left(bob), .show(.visit(peers: ["anna", "cleo"], seconds: 4, muted: false))])
        // The first phone leaving: the next one takes its place; back to a call of one.
        #expect(m.handle(.callEnded(anna, .remote), now: 6000)
                == [.left(anna), .show(.inCall(peer: "cleo", seconds: 5, muted: false))])
        #expect(members(m) == [cleo])
        // Someone may join again while the visit goes on.
        #expect(m.handle(.pairedOffer(dan), now: 7000).first == .join(dan))
        _ = m.handle(.callEnded(dan, .lost), now: 8000)
        let last = m.handle(.callEnded(cleo, .remote), now: 9000)
        #expect(last.first == .closeRoom(code: "04321"))
        #expect(last.last == .show(.ended(reason: "Call ended")))
        #expect(m.phase.name == "ending")
    }

    @Test func hangingUpTheDoorHangsUpEveryPhone() {
        var m = visitOfThree()
        let actions = m.handle(.hangUpRequested, now: 5000)
        #expect(Array(actions.prefix(4)) == [.hangUp(anna), .hangUp(bob), .hangUp(cleo), .closeRoom(code: "04321")])
        var declined = visitOfThree()
        #expect(Array(declined.handle(.press(ButtonPress(.decline)), now: 5000).prefix(3))
                == [.hangUp(anna), .hangUp(bob), .hangUp(cleo)])
    }

    @Test func aFirstPhoneThatNeverConnectsGoesAndTheJoinedOnesStay() {
        var m = ringing { $0.connectTimeoutMillis = 10_000 }
        _ = m.handle(.pairedOffer(anna), now: 1000)
        _ = m.handle(.pairedOffer(bob), now: 2000)
        let fired = m.handle(.timer(.connect), now: 11_000)
        #expect(fired.first == .hangUp(anna))
        #expect(!fired.contains(.closeRoom(code: "04321")))
        #expect(m.phase.deadlines[.connect] == nil)
        #expect(m.handle(.callEnded(anna, .local), now: 11_500).first == .left(anna))
        #expect(members(m) == [bob])
        #expect(m.phase.name == "in-call")
    }

    @Test func aPairedCallerWaitingForAnswerBecomesAVisitWhenAnswered() {
        var m = ringing { $0.autoAcceptProvenCallers = false }
        _ = m.handle(.pairedOffer(anna), now: 1000)
        #expect(m.phase.name == "incoming")
        #expect(m.handle(.press(ButtonPress(.answer)), now: 2000).first == .answer(anna))
        #expect(m.handle(.pairedOffer(bob), now: 3000).first == .join(bob))
    }

    @Test func muteIsTheDoorsOneMicrophoneForEveryone() {
        var m = visitOfThree()
        #expect(m.handle(.press(ButtonPress(.mute)), now: 5000)
                == [.setMuted(true), .show(.visit(peers: ["anna", "bob", "cleo"], seconds: 4, muted: true))])
    }
}
