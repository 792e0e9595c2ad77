import Testing
@testable import DoorCore

/// Seeded random event sequences, thousands of events each, through the machine and a model of the actor
/// that carries its actions out (timers that fire when due, media sessions, kept offers). After every event
/// the invariants a door must never break are checked.
@Suite struct CallStateMachinePropertyTests {
    typealias Machine = CallStateMachine

    /// SplitMix64: small, seedable, the same sequence on every machine.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// What the actor holds, as the machine's actions built it.
    struct ActorModel {
        var now: Int64 = 0
        var armed: [Machine.TimerKind: Int64] = [:]
        /// Calls with a media session (answered, not yet ended or hung up).
        var media: Set<Machine.CallID> = []
        /// Offers kept for a later answer (Device.pendingOffers).
        var offers: Set<Machine.CallID> = []
        /// Calls hung up whose end the session has not reported yet (a visit's first phone that never connected).
        var hungUp: Set<Machine.CallID> = []
        var roomCode: String?
        /// Between `openPairing` and `closePairing`.
        var pairingOpen = false
        var answers = 0
        var joins = 0
        var dials = 0
        var refusals = 0
        var timersFired = 0
    }

    static let callers: [Machine.CallID] = ["a", "b", "c"].flatMap { peer in
        (1...2).map { Machine.CallID(peer: "page-\(peer)", connectionId: "mc_\(peer)\($0)") }
    }

    static let policies: [(knocksNeedAnswer: Bool, autoAccept: Bool)] = [(true, true), (true, false), (false, true), (false, false)]

    @Test(arguments: 0..<4, [UInt64(1), 2, 3, 42, 20_261_125])
    func randomEventsKeepTheInvariants(policy: Int, seed: UInt64) {
        var settings = Machine.Settings()
        settings.knocksNeedAnswer = Self.policies[policy].knocksNeedAnswer
        settings.autoAcceptProvenCallers = Self.policies[policy].autoAccept
        settings.canPair = true
        var m = Machine(settings: settings)
        var rng = SeededGenerator(state: seed)
        var actor = ActorModel()
        var visited: Set<String> = []

        for step in 0..<5000 {
            let event = nextEvent(&rng, machine: m, actor: &actor)
            let before = m.phase
            let actions = m.handle(event, now: actor.now)
            let context = "seed \(seed), policy \(policy), step \(step): \(before) + \(event) → \(actions)"
            var problems: [String] = []
            carryOut(actions, event: event, before: before, after: m.phase, actor: &actor, settings: settings, &problems)
            checkInvariants(m.phase, actor: actor, &problems)
            visited.insert(m.phase.name)
            guard problems.isEmpty else {
                // The first broken step says it all.
                Issue.record("\(problems.joined(separator: "; ")) — \(context)")
                return
            }
        }
        // The walk must have gone everywhere the policy allows, or it proved little.
        var reachable: Set<String> = ["idle", "room", "in-call", "ending", "pairing", "paired", "dialing"]
        if settings.knocksNeedAnswer { reachable.insert("knock") }
        if !settings.autoAcceptProvenCallers { reachable.insert("incoming") }
        #expect(visited == reachable, "seed \(seed), policy \(policy)")
        #expect(actor.answers > 20 && actor.refusals > 20 && actor.timersFired > 20 && actor.dials > 5 && actor.joins > 2,
                "seed \(seed): \(actor.answers) answers, \(actor.joins) joins, \(actor.dials) dials, \(actor.refusals) refusals, \(actor.timersFired) timers")
    }

    /// The next thing to happen. A due timer fires first (the actor's GLib timers are never late); otherwise a
    /// random button, offer, media event, tick, control request or a timer kind that is not armed.
    func nextEvent(_ rng: inout SeededGenerator, machine: Machine, actor: inout ActorModel) -> Machine.Event {
        let advance = Int64.random(in: 0...4000, using: &rng)
        if let due = actor.armed.min(by: { $0.value < $1.value }), due.value <= actor.now + advance {
            actor.now = max(actor.now, due.value)
            actor.armed[due.key] = nil
            actor.timersFired += 1
            return .timer(due.key)
        }
        actor.now += advance
        let current = machine.phase.pending?.call ?? {
            if case .inCall(_, let active) = machine.phase { return active.call }
            if case .dialing(_, let dial) = machine.phase { return dial.call }
            return nil
        }()
        let someCall = Self.callers.randomElement(using: &rng)!
        // Any phone of a household visit may end, not only the first.
        let member: Machine.CallID? = if case .inCall(_, let active) = machine.phase {
            active.members.randomElement(using: &rng)
        } else { current }
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<30:
            let button = Button.allCases.randomElement(using: &rng)!
            return .press(ButtonPress(button, long: Int.random(in: 0..<5, using: &rng) == 0))
        case 30..<40:
            return .offer(someCall, proved: Bool.random(using: &rng))
        case 40..<50:
            return .pairedOffer(someCall)
        case 50..<62:
            return .callConnected(Bool.random(using: &rng) ? current ?? someCall : someCall)
        case 62..<70:
            let by = [Machine.EndedBy.remote, .local, .failed].randomElement(using: &rng)!
            return .callEnded(Bool.random(using: &rng) ? member ?? someCall : someCall, by)
        case 70..<85:
            return .tick
        case 85..<88:
            return .hangUpRequested
        case 88..<91:
            return .pairRequested
        case 91..<93:
            return .pairedBrowser(name: "phone")
        case 93..<95:
            return .dial(Machine.CallID(peer: "peer-d", connectionId: "mc_d\(UInt16.random(in: 0...UInt16.max, using: &rng))"))
        case 95..<97:
            return .dialAnswered(Bool.random(using: &rng) ? current ?? someCall : someCall)
        default:
            // A stale timer: the actor cancelled it, but say it fired anyway.
            let unarmed = Machine.TimerKind.allCases.filter { actor.armed[$0] == nil }
            return unarmed.randomElement(using: &rng).map { .timer($0) } ?? .tick
        }
    }

    func carryOut(_ actions: [Machine.Action], event: Machine.Event, before: Machine.Phase, after: Machine.Phase,
                  actor: inout ActorModel, settings: Machine.Settings, _ problems: inout [String]) {
        func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { problems.append(message()) }
        }
        if case .offer(let call, _) = event { actor.offers.insert(call) } // the Device keeps every offer first
        if case .pairedOffer(let call) = event { actor.offers.insert(call) }
        if case .callEnded(let call, _) = event { actor.media.remove(call); actor.hungUp.remove(call) }
        if case .timer(let kind) = event, before.deadlines[kind] == nil {
            expect(actions.isEmpty, "a timer the phase does not run changed something")
        }
        for action in actions {
            switch action {
            case .openRoom(let code, _):
                expect(actor.roomCode == nil, "a second room opened")
                actor.roomCode = code
            case .ringAgain(let code, _):
                expect(code == actor.roomCode, "ringing again changed the code")
            case .closeRoom(let code):
                expect(code == actor.roomCode, "closed a room that is not open")
                actor.roomCode = nil
                actor.offers.removeAll()
            case .answer(let call):
                expect(actor.media.isEmpty, "a second call started")
                expect(actor.offers.contains(call), "answered an offer the actor does not hold")
                let pressedAnswer = if case .press(let p) = event { p.button == .answer } else { false }
                let admittedAtOnce = if case .offer(call, let proved) = event {
                    (proved || !settings.knocksNeedAnswer) && settings.autoAcceptProvenCallers
                } else if case .pairedOffer(call) = event {
                    settings.autoAcceptProvenCallers
                } else { false }
                expect(pressedAnswer || admittedAtOnce, "media for a call nobody accepted")
                actor.offers.remove(call)
                actor.media.insert(call)
                actor.answers += 1
            case .refuse(let call, _), .ignore(let call, _):
                expect(actor.offers.contains(call), "turned away an offer the actor does not hold")
                // Only the running call's own repeated offer may be dropped while it has media.
                let offered = if case .offer(call, _) = event { true } else { event == .pairedOffer(call) }
                let repeatedOffer = if offered, case .ignore = action { true } else { false }
                expect(!actor.media.contains(call) || repeatedOffer, "turned away a call that has media")
                actor.offers.remove(call)
                if case .refuse = action { actor.refusals += 1 }
            case .dial(let call, _):
                expect(actor.media.isEmpty, "a call placed while another runs")
                expect(event == .dial(call), "a call placed nobody asked for")
                actor.media.insert(call)
                actor.dials += 1
            case .hangUp(let call):
                expect(actor.media.contains(call) || actor.hungUp.contains(call), "hung up a call with no media")
                actor.media.remove(call)
                actor.hungUp.insert(call)
            case .join(let call):
                expect(!actor.media.isEmpty, "joined a visit with no call")
                expect(event == .pairedOffer(call), "a join nobody paired offered")
                expect(actor.offers.contains(call), "joined an offer the actor does not hold")
                actor.offers.remove(call)
                actor.media.insert(call)
                actor.joins += 1
            case .left(let call):
                expect(event == .callEnded(call, .remote) || event == .callEnded(call, .local)
                       || event == .callEnded(call, .failed), "a phone left without its call ending")
            case .setMuted:
                expect(!actor.media.isEmpty, "muted with no call")
            case .startTimer(let kind, let at):
                expect(at >= actor.now, "timer \(kind) set in the past")
                actor.armed[kind] = at
            case .cancelTimer(let kind):
                expect(actor.armed[kind] != nil, "cancelled timer \(kind) that is not armed")
                actor.armed[kind] = nil
            case .show:
                break
            case .openPairing:
                expect(!actor.pairingOpen, "a second pairing window opened")
                expect(actor.roomCode == nil && actor.media.isEmpty, "a pairing window opened during a room or call")
                actor.pairingOpen = true
            case .closePairing:
                expect(actor.pairingOpen, "closed a pairing window that is not open")
                actor.pairingOpen = false
            }
        }
        if let code = before.room?.code, let next = after.room {
            expect(next.code == code, "the room code changed while the room stayed open")
        }
    }

    func checkInvariants(_ phase: Machine.Phase, actor: ActorModel, _ problems: inout [String]) {
        func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { problems.append(message()) }
        }
        expect(actor.armed == phase.deadlines, "armed timers \(actor.armed) ≠ the phase's \(phase.deadlines)")
        switch phase {
        case .inCall(_, let active):
            // A phone the door hung up stays a member until its session reports the end.
            expect(actor.media.isSubset(of: Set(active.members)) && actor.media.count >= active.members.count - 1,
                   "media \(actor.media) in a call with \(active.members)")
            expect(active.members.count == 1 || active.household, "several phones on a stranger's call")
        case .dialing(_, let dial):
            expect(actor.media == [dial.call], "media \(actor.media) while calling \(dial.call)")
        default:
            expect(actor.media.isEmpty, "media \(actor.media) outside a call")
        }
        let visit = if case .inCall = phase { true } else { false }
        expect(actor.media.count <= (visit ? Machine.Settings().maxPhones : 1), "too many calls at once")
        let kept = phase.pending.map { [$0.call] } ?? []
        expect(actor.offers == Set(kept), "kept offers \(actor.offers) ≠ the waiting caller \(kept)")
        expect((actor.roomCode != nil) == (phase.room != nil), "room registered ≠ phase")
        let pairing = if case .pairing = phase { true } else { false }
        expect(actor.pairingOpen == pairing, "pairing window open \(actor.pairingOpen) ≠ phase")
    }
}
