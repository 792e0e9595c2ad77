import Testing
@testable import DoorCore

/// Every (state, event) pair: the machine is driven into each state on a manual clock, given each event at
/// 10 s, and its next phase and actions are compared with the table below. The table's switch has no
/// `default`, so a new state or event does not compile until each of its pairs is written down here.
@Suite struct CallStateMachineTableTests {
    typealias Machine = CallStateMachine
    typealias Action = Machine.Action

    enum State: CaseIterable { case idle, room, knock, incoming, connecting, inCall, ending, pairing, paired, dialing, dialingInRoom }

    enum Input: CaseIterable {
        case doorbell, doorbellLong, answer, answerLong, decline, declineLong, mute, muteLong
        /// Offers: A is the caller the state holds (pending or in call), A2 the same page on a new connection,
        /// B another page without / with the room's secret.
        case offerA, offerA2, offerB, offerBProved
        case connectedA, endedA, endedB
        case timerRoomExpiry, timerKnock, timerAnswer, timerConnect, timerEnding, timerPairing
        case tick, hangUpRequested
        /// `ctl pair`, and the device having stored a browser that proved the window's token.
        case pair, pairedBrowser
        /// `ctl call` to D; D answered; D's call ended (EXPIRE, LEAVE, failure); nobody answered in time.
        case dialD, answeredD, endedD, timerDial

        var event: Machine.Event {
            switch self {
            case .doorbell: .press(ButtonPress(.doorbell))
            case .doorbellLong: .press(ButtonPress(.doorbell, long: true))
            case .answer: .press(ButtonPress(.answer))
            case .answerLong: .press(ButtonPress(.answer, long: true))
            case .decline: .press(ButtonPress(.decline))
            case .declineLong: .press(ButtonPress(.decline, long: true))
            case .mute: .press(ButtonPress(.mute))
            case .muteLong: .press(ButtonPress(.mute, long: true))
            case .offerA: .offer(a, proved: false)
            case .offerA2: .offer(a2, proved: false)
            case .offerB: .offer(b, proved: false)
            case .offerBProved: .offer(b, proved: true)
            case .connectedA: .callConnected(a)
            case .endedA: .callEnded(a, .remote)
            case .endedB: .callEnded(b, .remote)
            case .timerRoomExpiry: .timer(.roomExpiry)
            case .timerKnock: .timer(.knock)
            case .timerAnswer: .timer(.answer)
            case .timerConnect: .timer(.connect)
            case .timerEnding: .timer(.ending)
            case .timerPairing: .timer(.pairing)
            case .pair: .pairRequested
            case .pairedBrowser: .pairedBrowser(name: "Anna's phone")
            case .tick: .tick
            case .hangUpRequested: .hangUpRequested
            case .dialD: .dial(d)
            case .answeredD: .dialAnswered(d)
            case .endedD: .callEnded(d, .remote)
            case .timerDial: .timer(.dial)
            }
        }
    }

    static let a = Machine.CallID(peer: "page-a", connectionId: "mc_a")
    static let a2 = Machine.CallID(peer: "page-a", connectionId: "mc_a2")
    static let b = Machine.CallID(peer: "page-b", connectionId: "mc_b")
    /// The peer the door calls.
    static let d = Machine.CallID(peer: "peer-d", connectionId: "mc_d")
    static let code = "04321"
    static let secret = RoomSecret(bytes: Array(0..<16))!
    static let link = RoomLink(webBase: "http://door.local:8080", code: code, secret: secret)
    static let now: Int64 = 10_000
    static let home = "intercom-home-00112233445566778899aabbccddeeff"
    static let token = PairingToken(bytes: Array(16..<32))!
    static let pairingLink = PairingLink(webBase: "http://door.local:8080", homePeerID: home, token: token)

    /// Opened at 0, expiring at 120 s.
    static let room0 = Machine.Room(code: code, openedAt: 0, expiresAt: 120_000, secret: secret)

    static func settings(_ state: State) -> Machine.Settings {
        var settings = Machine.Settings()
        settings.webBase = "http://door.local:8080"
        settings.doorName = "Front door"
        // The incoming phase exists only when proven callers wait for ANSWER.
        settings.autoAcceptProvenCallers = state != .incoming
        settings.canPair = true
        settings.homePeerID = home
        return settings
    }

    /// The machine in `state`, reached through real events: ring at 0, the caller at 1 s, answered at 2 s,
    /// connected at 3 s, ended at 9 s.
    static func machine(in state: State) -> Machine {
        var m = Machine(settings: settings(state), makeCode: { code }, makeSecret: { secret }, makeToken: { token })
        func step(_ event: Machine.Event, _ at: Int64) { _ = m.handle(event, now: at) }
        if state == .idle { return m }
        if state == .dialing { step(.dial(d), 1000); return m }
        if state == .pairing || state == .paired {
            // Long press at 0 opens the window; a browser pairs at 9 s.
            step(.press(ButtonPress(.doorbell, long: true)), 0)
            if state == .paired { step(.pairedBrowser(name: "Anna's phone"), 9000) }
            return m
        }
        step(.press(ButtonPress(.doorbell)), 0)
        switch state {
        case .idle, .room, .pairing, .paired, .dialing: break
        case .dialingInRoom: step(.dial(d), 1000)
        case .knock: step(.offer(a, proved: false), 1000)
        case .incoming: step(.offer(a, proved: true), 1000)
        case .connecting, .inCall, .ending:
            step(.offer(a, proved: false), 1000)
            step(.press(ButtonPress(.answer)), 2000)
            if state != .connecting { step(.callConnected(a), 3000) }
            if state == .ending { step(.callEnded(a, .remote), 9000) }
        }
        return m
    }

    // Expected results, built from these pieces.
    static let knockA = Machine.Pending(call: a, proved: false, deadline: 31_000)
    static let incomingA = Machine.Pending(call: a, proved: true, deadline: 31_000)
    static let connectingA = Machine.ActiveCall(call: a, since: 2000, connectDeadline: 22_000)
    static let inCallA = Machine.ActiveCall(call: a, since: 2000, connectDeadline: nil)
    static let endedAt9 = Machine.Phase.ending(reason: "Call ended", until: 12_000)
    static func ending(_ reason: String) -> Machine.Phase { .ending(reason: reason, until: now + 3000) }
    static let roomScreen = Action.show(.room(code: code, link: link.url, secondsLeft: 110))
    static let freshRoomScreen = Action.show(.room(code: code, link: link.url, secondsLeft: 120))
    static let rerung = Machine.Room(code: code, openedAt: 0, expiresAt: now + 120_000, secret: secret)
    static func newRoom() -> (Machine.Phase, [Action]) {
        (.room(Machine.Room(code: code, openedAt: now, expiresAt: now + 120_000, secret: secret)),
         [.openRoom(code: code, link: link), .startTimer(.roomExpiry, at: now + 120_000), freshRoomScreen])
    }
    static func answered(_ call: Machine.CallID, from pendingTimer: Machine.TimerKind?) -> (Machine.Phase, [Action]) {
        (.inCall(room0, Machine.ActiveCall(call: call, since: now, connectDeadline: now + 20_000)),
         [.answer(call), .cancelTimer(.roomExpiry)] + (pendingTimer.map { [.cancelTimer($0)] } ?? [])
            + [.startTimer(.connect, at: now + 20_000), .show(.inCall(peer: call.peer, seconds: 0, muted: false))])
    }
    static func knocking(_ call: Machine.CallID, after earlier: [Action] = []) -> (Machine.Phase, [Action]) {
        (.knock(room0, Machine.Pending(call: call, proved: false, deadline: now + 30_000)),
         earlier + [.startTimer(.knock, at: now + 30_000), .show(.knock(peer: call.peer, secondsLeft: 30))])
    }

    static let dialD = Machine.Dial(call: d, deadline: 31_000)
    static let callingScreen = Action.show(.calling(peer: "peer-d", secondsLeft: 21))
    /// Dialing D from `room` (nil: idle or a passing screen); `between` are the timer changes of the phase left.
    static func dialing(in room: Machine.Room?, _ between: [Action] = []) -> (Machine.Phase, [Action]) {
        (.dialing(room, Machine.Dial(call: d, deadline: now + 30_000)),
         [.dial(d)] + between + [.startTimer(.dial, at: now + 30_000), .show(.calling(peer: "peer-d", secondsLeft: 30))])
    }

    static let window0 = PairingWindow(token: token, expiresAt: 120_000)
    static let pairedAt9 = Machine.Phase.paired(name: "Anna's phone", until: 12_000)
    /// A new pairing window at `now`; `between` are the timer cancels of the phase it leaves.
    static func newPairing(_ between: [Action] = []) -> (Machine.Phase, [Action]) {
        (.pairing(PairingWindow(token: token, expiresAt: now + 120_000)),
         [.openPairing(link: pairingLink)] + between
            + [.startTimer(.pairing, at: now + 120_000), .show(.pairing(link: pairingLink.url, secondsLeft: 120))])
    }

    /// The table: for each state and input, the phase after it and the actions, in order.
    static func expected(_ state: State, _ input: Input) -> (Machine.Phase, [Action]) {
        let nothing: [Action] = []
        switch (state, input) {
        // MARK: idle — only the doorbell does something; offers are dropped without a word.
        case (.idle, .doorbell):
            return newRoom()
        case (.idle, .doorbellLong), (.idle, .pair):
            return newPairing()
        case (.idle, .offerA), (.idle, .offerA2), (.idle, .offerB), (.idle, .offerBProved):
            return (.idle, [.ignore(input.call!, reason: "no room is open")])
        case (.idle, .tick):
            return (.idle, [.show(.idle(doorName: "Front door"))])
        case (.idle, .answer), (.idle, .answerLong), (.idle, .decline), (.idle, .declineLong), (.idle, .mute),
             (.idle, .muteLong), (.idle, .connectedA), (.idle, .endedA), (.idle, .endedB), (.idle, .timerRoomExpiry),
             (.idle, .timerKnock), (.idle, .timerAnswer), (.idle, .timerConnect), (.idle, .timerEnding),
             (.idle, .hangUpRequested), (.idle, .timerPairing), (.idle, .pairedBrowser), (.idle, .answeredD),
             (.idle, .endedD), (.idle, .timerDial):
            return (.idle, nothing)
        case (.idle, .dialD):
            return dialing(in: nil)

        // MARK: room — ringing, nobody called yet.
        case (.room, .doorbell), (.room, .doorbellLong):
            return (.room(rerung), [.ringAgain(code: code, link: link), .startTimer(.roomExpiry, at: now + 120_000),
                                    freshRoomScreen])
        case (.room, .decline), (.room, .declineLong), (.room, .hangUpRequested):
            return (ending("Room closed"), [.closeRoom(code: code), .cancelTimer(.roomExpiry),
                                            .startTimer(.ending, at: now + 3000), .show(.ended(reason: "Room closed"))])
        case (.room, .offerA), (.room, .offerA2), (.room, .offerB):
            return knocking(input.call!)
        case (.room, .offerBProved):
            return answered(b, from: nil)
        case (.room, .timerRoomExpiry):
            return (ending("Nobody answered"), [.closeRoom(code: code), .startTimer(.ending, at: now + 3000),
                                                .show(.ended(reason: "Nobody answered"))])
        case (.room, .tick):
            return (.room(room0), [roomScreen])
        case (.room, .answer), (.room, .answerLong), (.room, .mute), (.room, .muteLong), (.room, .connectedA),
             (.room, .endedA), (.room, .endedB), (.room, .timerKnock), (.room, .timerAnswer), (.room, .timerConnect),
             (.room, .timerEnding), (.room, .timerPairing), (.room, .pair), (.room, .pairedBrowser), (.room, .answeredD),
             (.room, .endedD), (.room, .timerDial):
            return (.room(room0), nothing)
        case (.room, .dialD):
            // The room stays open and ringing while the door calls out.
            return dialing(in: room0)

        // MARK: knock — A has only the code and waits for ANSWER.
        case (.knock, .doorbell), (.knock, .doorbellLong):
            return (.knock(rerung, knockA), [.ringAgain(code: code, link: link),
                                             .startTimer(.roomExpiry, at: now + 120_000),
                                             .show(.knock(peer: "page-a", secondsLeft: 21))])
        case (.knock, .answer), (.knock, .answerLong):
            return answered(a, from: .knock)
        case (.knock, .decline):
            return (.room(room0), [.refuse(a, .declined), .cancelTimer(.knock), roomScreen])
        case (.knock, .declineLong):
            return (ending("Room closed"), [.refuse(a, .declined), .closeRoom(code: code), .cancelTimer(.roomExpiry),
                                            .cancelTimer(.knock), .startTimer(.ending, at: now + 3000),
                                            .show(.ended(reason: "Room closed"))])
        case (.knock, .hangUpRequested):
            return (ending("Room closed"), [.refuse(a, .closed), .closeRoom(code: code), .cancelTimer(.roomExpiry),
                                            .cancelTimer(.knock), .startTimer(.ending, at: now + 3000),
                                            .show(.ended(reason: "Room closed"))])
        case (.knock, .offerA2):
            return knocking(a2, after: [.ignore(a, reason: "replaced by a newer offer from the same peer")])
        case (.knock, .offerB):
            return (.knock(room0, knockA), [.refuse(b, .busy)])
        case (.knock, .offerBProved):
            let (phase, actions) = answered(b, from: .knock)
            return (phase, [.refuse(a, .busy)] + actions)
        case (.knock, .endedA):
            return (.room(room0), [.ignore(a, reason: "the caller left before anyone answered"), .cancelTimer(.knock),
                                   roomScreen])
        case (.knock, .timerRoomExpiry):
            return (ending("Nobody answered"), [.refuse(a, .timeout), .closeRoom(code: code), .cancelTimer(.knock),
                                                .startTimer(.ending, at: now + 3000),
                                                .show(.ended(reason: "Nobody answered"))])
        case (.knock, .timerKnock):
            return (.room(room0), [.refuse(a, .timeout), roomScreen])
        case (.knock, .tick):
            return (.knock(room0, knockA), [.show(.knock(peer: "page-a", secondsLeft: 21))])
        case (.knock, .offerA), (.knock, .mute), (.knock, .muteLong), (.knock, .connectedA), (.knock, .endedB),
             (.knock, .timerAnswer), (.knock, .timerConnect), (.knock, .timerEnding), (.knock, .timerPairing),
             (.knock, .pair), (.knock, .pairedBrowser), (.knock, .dialD), (.knock, .answeredD), (.knock, .endedD),
             (.knock, .timerDial):
            return (.knock(room0, knockA), nothing)

        // MARK: incoming — A proved the secret and waits for ANSWER (proven callers not auto-accepted).
        case (.incoming, .doorbell), (.incoming, .doorbellLong):
            return (.incoming(rerung, incomingA), [.ringAgain(code: code, link: link),
                                                   .startTimer(.roomExpiry, at: now + 120_000),
                                                   .show(.incomingCall(peer: "page-a", secondsLeft: 21))])
        case (.incoming, .answer), (.incoming, .answerLong):
            return answered(a, from: .answer)
        case (.incoming, .decline):
            return (.room(room0), [.refuse(a, .declined), .cancelTimer(.answer), roomScreen])
        case (.incoming, .declineLong):
            return (ending("Room closed"), [.refuse(a, .declined), .closeRoom(code: code), .cancelTimer(.roomExpiry),
                                            .cancelTimer(.answer), .startTimer(.ending, at: now + 3000),
                                            .show(.ended(reason: "Room closed"))])
        case (.incoming, .hangUpRequested):
            return (ending("Room closed"), [.refuse(a, .closed), .closeRoom(code: code), .cancelTimer(.roomExpiry),
                                            .cancelTimer(.answer), .startTimer(.ending, at: now + 3000),
                                            .show(.ended(reason: "Room closed"))])
        case (.incoming, .offerA2):
            // The same page again, this time without the secret: now it knocks.
            return (.knock(room0, Machine.Pending(call: a2, proved: false, deadline: now + 30_000)),
                    [.ignore(a, reason: "replaced by a newer offer from the same peer"),
                     .startTimer(.knock, at: now + 30_000), .cancelTimer(.answer),
                     .show(.knock(peer: "page-a", secondsLeft: 30))])
        case (.incoming, .offerB), (.incoming, .offerBProved):
            return (.incoming(room0, incomingA), [.refuse(b, .busy)])
        case (.incoming, .endedA):
            return (.room(room0), [.ignore(a, reason: "the caller left before anyone answered"), .cancelTimer(.answer),
                                   roomScreen])
        case (.incoming, .timerRoomExpiry):
            return (ending("Nobody answered"), [.refuse(a, .timeout), .closeRoom(code: code), .cancelTimer(.answer),
                                                .startTimer(.ending, at: now + 3000),
                                                .show(.ended(reason: "Nobody answered"))])
        case (.incoming, .timerAnswer):
            return (.room(room0), [.refuse(a, .timeout), roomScreen])
        case (.incoming, .tick):
            return (.incoming(room0, incomingA), [.show(.incomingCall(peer: "page-a", secondsLeft: 21))])
        case (.incoming, .offerA), (.incoming, .mute), (.incoming, .muteLong), (.incoming, .connectedA),
             (.incoming, .endedB), (.incoming, .timerKnock), (.incoming, .timerConnect), (.incoming, .timerEnding),
             (.incoming, .timerPairing), (.incoming, .pair), (.incoming, .pairedBrowser), (.incoming, .dialD),
             (.incoming, .answeredD), (.incoming, .endedD), (.incoming, .timerDial):
            return (.incoming(room0, incomingA), nothing)

        // MARK: connecting — A was answered, media not connected yet.
        case (.connecting, .decline), (.connecting, .declineLong), (.connecting, .hangUpRequested):
            return (ending("Call ended"), [.hangUp(a), .closeRoom(code: code), .cancelTimer(.connect),
                                           .startTimer(.ending, at: now + 3000), .show(.ended(reason: "Call ended"))])
        case (.connecting, .mute), (.connecting, .muteLong):
            var muted = connectingA
            muted.muted = true
            return (.inCall(room0, muted), [.setMuted(true), .show(.inCall(peer: "page-a", seconds: 8, muted: true))])
        case (.connecting, .offerA):
            return (.inCall(room0, connectingA), [.ignore(a, reason: "the running call offered again")])
        case (.connecting, .offerA2):
            return (.inCall(room0, connectingA), [.ignore(a2, reason: "already in a call with this peer")])
        case (.connecting, .offerB), (.connecting, .offerBProved):
            return (.inCall(room0, connectingA), [.refuse(b, .busy)])
        case (.connecting, .connectedA):
            return (.inCall(room0, inCallA), [.cancelTimer(.connect), .show(.inCall(peer: "page-a", seconds: 8, muted: false))])
        case (.connecting, .endedA):
            return (ending("Call ended"), [.closeRoom(code: code), .cancelTimer(.connect),
                                           .startTimer(.ending, at: now + 3000), .show(.ended(reason: "Call ended"))])
        case (.connecting, .timerConnect):
            // Never connected: hung up, and the room waits for the next caller until its own countdown ends.
            return (.room(room0), [.hangUp(a), .startTimer(.roomExpiry, at: 120_000), roomScreen])
        case (.connecting, .tick):
            return (.inCall(room0, connectingA), [.show(.inCall(peer: "page-a", seconds: 8, muted: false))])
        case (.connecting, .doorbell), (.connecting, .doorbellLong), (.connecting, .answer),
             (.connecting, .answerLong), (.connecting, .endedB), (.connecting, .timerRoomExpiry),
             (.connecting, .timerKnock), (.connecting, .timerAnswer), (.connecting, .timerEnding),
             (.connecting, .timerPairing), (.connecting, .pair), (.connecting, .pairedBrowser), (.connecting, .dialD),
             (.connecting, .answeredD), (.connecting, .endedD), (.connecting, .timerDial):
            return (.inCall(room0, connectingA), nothing)

        // MARK: inCall — A's media connected.
        case (.inCall, .decline), (.inCall, .declineLong), (.inCall, .hangUpRequested):
            return (ending("Call ended"), [.hangUp(a), .closeRoom(code: code), .startTimer(.ending, at: now + 3000),
                                           .show(.ended(reason: "Call ended"))])
        case (.inCall, .mute), (.inCall, .muteLong):
            var muted = inCallA
            muted.muted = true
            return (.inCall(room0, muted), [.setMuted(true), .show(.inCall(peer: "page-a", seconds: 8, muted: true))])
        case (.inCall, .offerA):
            return (.inCall(room0, inCallA), [.ignore(a, reason: "the running call offered again")])
        case (.inCall, .offerA2):
            return (.inCall(room0, inCallA), [.ignore(a2, reason: "already in a call with this peer")])
        case (.inCall, .offerB), (.inCall, .offerBProved):
            return (.inCall(room0, inCallA), [.refuse(b, .busy)])
        case (.inCall, .endedA):
            return (ending("Call ended"), [.closeRoom(code: code), .startTimer(.ending, at: now + 3000),
                                           .show(.ended(reason: "Call ended"))])
        case (.inCall, .tick):
            return (.inCall(room0, inCallA), [.show(.inCall(peer: "page-a", seconds: 8, muted: false))])
        case (.inCall, .doorbell), (.inCall, .doorbellLong), (.inCall, .answer), (.inCall, .answerLong),
             (.inCall, .connectedA), (.inCall, .endedB), (.inCall, .timerRoomExpiry), (.inCall, .timerKnock),
             (.inCall, .timerAnswer), (.inCall, .timerConnect), (.inCall, .timerEnding), (.inCall, .timerPairing),
             (.inCall, .pair), (.inCall, .pairedBrowser), (.inCall, .dialD), (.inCall, .answeredD), (.inCall, .endedD),
             (.inCall, .timerDial):
            return (.inCall(room0, inCallA), nothing)

        // MARK: ending — the "ended" screen; the doorbell opens a new room at once.
        case (.ending, .doorbell), (.ending, .doorbellLong):
            let (phase, actions) = newRoom()
            return (phase, actions.dropLast() + [.cancelTimer(.ending), freshRoomScreen])
        case (.ending, .offerA), (.ending, .offerA2), (.ending, .offerB), (.ending, .offerBProved):
            return (endedAt9, [.ignore(input.call!, reason: "no room is open")])
        case (.ending, .timerEnding):
            return (.idle, [.show(.idle(doorName: "Front door"))])
        case (.ending, .tick):
            return (endedAt9, [.show(.ended(reason: "Call ended"))])
        case (.ending, .answer), (.ending, .answerLong), (.ending, .decline), (.ending, .declineLong),
             (.ending, .mute), (.ending, .muteLong), (.ending, .connectedA), (.ending, .endedA), (.ending, .endedB),
             (.ending, .timerRoomExpiry), (.ending, .timerKnock), (.ending, .timerAnswer), (.ending, .timerConnect),
             (.ending, .hangUpRequested), (.ending, .timerPairing), (.ending, .pairedBrowser), (.ending, .answeredD),
             (.ending, .endedD), (.ending, .timerDial):
            return (endedAt9, nothing)
        case (.ending, .dialD):
            return dialing(in: nil, [.cancelTimer(.ending)])
        case (.ending, .pair):
            return newPairing([.cancelTimer(.ending)])

        // MARK: pairing — the window is open (long press at 0, closes at 120 s); the bell always wins.
        case (.pairing, .doorbell), (.pairing, .doorbellLong):
            let (phase, actions) = newRoom()
            return (phase, [.closePairing] + actions.dropLast() + [.cancelTimer(.pairing), freshRoomScreen])
        case (.pairing, .decline), (.pairing, .declineLong), (.pairing, .hangUpRequested):
            return (.idle, [.closePairing, .cancelTimer(.pairing), .show(.idle(doorName: "Front door"))])
        case (.pairing, .offerA), (.pairing, .offerA2), (.pairing, .offerB), (.pairing, .offerBProved):
            return (.pairing(window0), [.ignore(input.call!, reason: "no room is open")])
        case (.pairing, .timerPairing):
            return (.idle, [.closePairing, .show(.idle(doorName: "Front door"))])
        case (.pairing, .tick):
            return (.pairing(window0), [.show(.pairing(link: pairingLink.url, secondsLeft: 110))])
        case (.pairing, .pair):
            // Same token (someone may be scanning it), the countdown starts again.
            return (.pairing(PairingWindow(token: token, expiresAt: now + 120_000)),
                    [.startTimer(.pairing, at: now + 120_000), .show(.pairing(link: pairingLink.url, secondsLeft: 120))])
        case (.pairing, .pairedBrowser):
            return (.paired(name: "Anna's phone", until: now + 3000),
                    [.closePairing, .startTimer(.ending, at: now + 3000), .cancelTimer(.pairing),
                     .show(.paired(name: "Anna's phone"))])
        case (.pairing, .answer), (.pairing, .answerLong), (.pairing, .mute), (.pairing, .muteLong),
             (.pairing, .connectedA), (.pairing, .endedA), (.pairing, .endedB), (.pairing, .timerRoomExpiry),
             (.pairing, .timerKnock), (.pairing, .timerAnswer), (.pairing, .timerConnect), (.pairing, .timerEnding),
             (.pairing, .dialD), (.pairing, .answeredD), (.pairing, .endedD), (.pairing, .timerDial):
            return (.pairing(window0), nothing)

        // MARK: paired — "Paired: Anna's phone" from 9 s to 12 s; like the "ended" screen otherwise.
        case (.paired, .doorbell), (.paired, .doorbellLong):
            let (phase, actions) = newRoom()
            return (phase, actions.dropLast() + [.cancelTimer(.ending), freshRoomScreen])
        case (.paired, .offerA), (.paired, .offerA2), (.paired, .offerB), (.paired, .offerBProved):
            return (pairedAt9, [.ignore(input.call!, reason: "no room is open")])
        case (.paired, .timerEnding):
            return (.idle, [.show(.idle(doorName: "Front door"))])
        case (.paired, .tick):
            return (pairedAt9, [.show(.paired(name: "Anna's phone"))])
        case (.paired, .pair):
            return newPairing([.cancelTimer(.ending)])
        case (.paired, .answer), (.paired, .answerLong), (.paired, .decline), (.paired, .declineLong),
             (.paired, .mute), (.paired, .muteLong), (.paired, .connectedA), (.paired, .endedA), (.paired, .endedB),
             (.paired, .timerRoomExpiry), (.paired, .timerKnock), (.paired, .timerAnswer), (.paired, .timerConnect),
             (.paired, .timerPairing), (.paired, .hangUpRequested), (.paired, .pairedBrowser), (.paired, .answeredD),
             (.paired, .endedD), (.paired, .timerDial):
            return (pairedAt9, nothing)
        case (.paired, .dialD):
            return dialing(in: nil, [.cancelTimer(.ending)])

        // MARK: dialing — the door called D at 1 s from idle (no answer until 31 s).
        case (.dialing, .doorbell):
            // The visitor comes first: the attempt is given up and the bell rings.
            let (phase, actions) = newRoom()
            return (phase, [.hangUp(d), .cancelTimer(.dial)] + actions)
        case (.dialing, .doorbellLong):
            // As from idle: a long press opens the pairing window.
            let (phase, actions) = newPairing()
            return (phase, [.hangUp(d), .cancelTimer(.dial)] + actions)
        case (.dialing, .decline), (.dialing, .declineLong), (.dialing, .hangUpRequested):
            return (ending("Call cancelled"), [.hangUp(d), .startTimer(.ending, at: now + 3000), .cancelTimer(.dial),
                                               .show(.ended(reason: "Call cancelled"))])
        case (.dialing, .offerA), (.dialing, .offerA2), (.dialing, .offerB), (.dialing, .offerBProved):
            return (.dialing(nil, dialD), [.ignore(input.call!, reason: "no room is open")])
        case (.dialing, .answeredD):
            return (.inCall(nil, Machine.ActiveCall(call: d, since: now, connectDeadline: now + 20_000)),
                    [.startTimer(.connect, at: now + 20_000), .cancelTimer(.dial),
                     .show(.inCall(peer: "peer-d", seconds: 0, muted: false))])
        case (.dialing, .endedD):
            return (ending("No answer"), [.startTimer(.ending, at: now + 3000), .cancelTimer(.dial),
                                          .show(.ended(reason: "No answer"))])
        case (.dialing, .timerDial):
            return (ending("No answer"), [.hangUp(d), .startTimer(.ending, at: now + 3000),
                                          .show(.ended(reason: "No answer"))])
        case (.dialing, .tick):
            return (.dialing(nil, dialD), [callingScreen])
        case (.dialing, .answer), (.dialing, .answerLong), (.dialing, .mute), (.dialing, .muteLong),
             (.dialing, .connectedA), (.dialing, .endedA), (.dialing, .endedB), (.dialing, .timerRoomExpiry),
             (.dialing, .timerKnock), (.dialing, .timerAnswer), (.dialing, .timerConnect), (.dialing, .timerEnding),
             (.dialing, .timerPairing), (.dialing, .pair), (.dialing, .pairedBrowser), (.dialing, .dialD):
            return (.dialing(nil, dialD), nothing)

        // MARK: dialingInRoom — a room rang at 0, the door called D at 1 s; the room keeps ringing.
        case (.dialingInRoom, .doorbell), (.dialingInRoom, .doorbellLong):
            return (.room(rerung), [.hangUp(d), .cancelTimer(.dial), .ringAgain(code: code, link: link),
                                    .startTimer(.roomExpiry, at: now + 120_000), freshRoomScreen])
        case (.dialingInRoom, .decline):
            return (.room(room0), [.hangUp(d), .cancelTimer(.dial), roomScreen])
        case (.dialingInRoom, .declineLong), (.dialingInRoom, .hangUpRequested):
            return (ending("Call cancelled"), [.hangUp(d), .closeRoom(code: code), .cancelTimer(.roomExpiry),
                                               .startTimer(.ending, at: now + 3000), .cancelTimer(.dial),
                                               .show(.ended(reason: "Call cancelled"))])
        case (.dialingInRoom, .offerA), (.dialingInRoom, .offerA2), (.dialingInRoom, .offerB),
             (.dialingInRoom, .offerBProved):
            return (.dialing(room0, dialD), [.refuse(input.call!, .busy)])
        case (.dialingInRoom, .answeredD):
            return (.inCall(room0, Machine.ActiveCall(call: d, since: now, connectDeadline: now + 20_000)),
                    [.cancelTimer(.roomExpiry), .startTimer(.connect, at: now + 20_000), .cancelTimer(.dial),
                     .show(.inCall(peer: "peer-d", seconds: 0, muted: false))])
        case (.dialingInRoom, .endedD):
            return (.room(room0), [.cancelTimer(.dial), roomScreen])
        case (.dialingInRoom, .timerDial):
            return (.room(room0), [.hangUp(d), roomScreen])
        case (.dialingInRoom, .timerRoomExpiry):
            // The room's time is up; the call attempt goes on without it.
            return (.dialing(nil, dialD), [.closeRoom(code: code), callingScreen])
        case (.dialingInRoom, .tick):
            return (.dialing(room0, dialD), [callingScreen])
        case (.dialingInRoom, .answer), (.dialingInRoom, .answerLong), (.dialingInRoom, .mute),
             (.dialingInRoom, .muteLong), (.dialingInRoom, .connectedA), (.dialingInRoom, .endedA),
             (.dialingInRoom, .endedB), (.dialingInRoom, .timerKnock), (.dialingInRoom, .timerAnswer),
             (.dialingInRoom, .timerConnect), (.dialingInRoom, .timerEnding), (.dialingInRoom, .timerPairing),
             (.dialingInRoom, .pair), (.dialingInRoom, .pairedBrowser), (.dialingInRoom, .dialD):
            return (.dialing(room0, dialD), nothing)
        }
    }

    static let pairs = State.allCases.flatMap { state in Input.allCases.map { (state, $0) } }

    @Test(arguments: pairs)
    func transition(state: State, input: Input) {
        var m = Self.machine(in: state)
        let actions = m.handle(input.event, now: Self.now)
        let (phase, expectedActions) = Self.expected(state, input)
        #expect(m.phase == phase, "\(state) + \(input): phase")
        #expect(actions == expectedActions, "\(state) + \(input): actions")
    }

    @Test func theTableCoversEveryPair() {
        #expect(Self.pairs.count == State.allCases.count * Input.allCases.count)
        #expect(Set(State.allCases.map { "\(Self.machine(in: $0).phase.name)" }).count == 9) // connecting + inCall share "in-call", both dialing states "dialing"
    }
}

extension CallStateMachineTableTests.Input {
    /// The call an offer input carries.
    var call: CallStateMachine.CallID? {
        switch self {
        case .offerA: CallStateMachineTableTests.a
        case .offerA2: CallStateMachineTableTests.a2
        case .offerB, .offerBProved: CallStateMachineTableTests.b
        default: nil
        }
    }
}
