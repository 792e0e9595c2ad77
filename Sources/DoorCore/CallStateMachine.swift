/// The door's decisions as a value: events in, actions out, no I/O and no clock of its own (`now` is passed
/// in), so every order of events can be tested without sleeping.
///
/// Phases: `idle` → doorbell → `room` (ringing) → an offer arrives → `knock` (the caller did not prove the
/// room's secret: someone must press ANSWER) or `incoming` (proved, but residents answer by hand) or straight
/// `inCall` (proved and auto-accepted) → the call ends → `ending` (the "ended" screen for a moment) → `idle`.
///
/// Every timeout is a timer the actor owns: the machine asks for it with `startTimer(kind, at:)` and takes it
/// back with `cancelTimer(kind)`. Which timers run follows from the phase alone (`Phase.deadlines`), and every
/// phase change emits exactly the starts and cancels between the old and the new set, so no timer outlives
/// the state that started it.
///
/// Pairing a browser (docs/pairing.md): a long doorbell press while idle, or `pairRequested`, opens
/// a `pairing` window with its own one-use token, timer and screen; any doorbell press in it cancels it and
/// rings as usual; `pairedBrowser` spends the token and shows `paired` ("Paired: <name>") for a moment.
///
/// Calling out (`dial`, `intercom ctl call`): from idle, a passing screen or an open room, the door offers a call
/// to a peer (`dialing`, "Calling…"); its answer (`dialAnswered`) makes it the door's call (`inCall`, with the
/// room it was made from, if any). A doorbell press while dialing gives up the attempt and rings (the visitor at
/// the door comes first); offers to an open room are told "busy"; DECLINE cancels the attempt (a long press
/// closes the room too); no answer within `dialTimeoutMillis`, or the peer gone (EXPIRE, LEAVE), ends it, and
/// an open room keeps ringing.
///
/// The household visit (docs/household.md): a call answered by a paired browser (`pairedOffer`) is a visit other
/// paired browsers may join (`join`) while it runs, up to `maxPhones` phones; beyond that they are refused as
/// `full`. A phone that leaves is `left`; the first phone's place goes to the next one, and the call ends only
/// when the last phone leaves (or the door hangs up). A stranger with the room link keeps the one-caller rule.
///
/// Media exists only between `answer` (or `dial`) and the end of that call: the machine emits `answer` only for a call
/// somebody accepted (a proved caller under `autoAcceptProvenCallers`, or an ANSWER press).
public struct CallStateMachine: Sendable {
    public struct Settings: Sendable, Equatable {
        public var roomLifetimeMillis: Int64 = 120_000
        /// How long a knock waits for ANSWER before it is refused.
        public var knockTimeoutMillis: Int64 = 30_000
        /// How long a proved caller waits for ANSWER when proven callers are not auto-accepted.
        public var answerTimeoutMillis: Int64 = 30_000
        /// From `answer` to connected media; a call that never connects is hung up, never left as a zombie.
        public var connectTimeoutMillis: Int64 = 20_000
        /// How long the "ended" screen stays before the idle screen.
        public var endingMillis: Int64 = 3_000
        /// A caller that did not prove the room's secret is a knock that needs ANSWER. Off: the room code is
        /// enough (a trusted LAN), and every offer counts as proved.
        public var knocksNeedAnswer = true
        /// A caller that proved the secret is answered at once. Off: it waits for ANSWER like a knock, shown
        /// as an incoming call.
        public var autoAcceptProvenCallers = true
        public var doorName = "Front door"
        /// Where the web client lives; join links are `<webBase>/?room=<code>#k=<secret>`.
        public var webBase = "http://localhost:8080"
        /// Pairing needs somewhere to keep pairings (a state directory): off, a long press rings like a short
        /// one and `pairRequested` does nothing.
        public var canPair = false
        /// The device's permanent PeerJS ID, which pairing links name (`?pair=<home peer ID>`).
        public var homePeerID = ""
        /// How long a pairing window stays open.
        public var pairingWindowMillis: Int64 = 120_000
        /// How long "Paired: <name>" stays before the idle screen.
        public var pairedScreenMillis: Int64 = 3_000
        /// How long a call the door places waits for the peer's answer.
        public var dialTimeoutMillis: Int64 = 30_000
        /// The most phones on one household visit (`visits.max_phones`); 1: nobody joins a running call.
        public var maxPhones = 3
        public init() {}

        public func pairingLink(token: PairingToken) -> PairingLink {
            PairingLink(webBase: webBase, homePeerID: homePeerID, token: token)
        }

        public func joinLink(code: String, secret: RoomSecret, turn: RoomTURN? = nil) -> RoomLink {
            RoomLink(webBase: webBase, code: code, secret: secret, turn: turn)
        }
    }

    /// A call is named by who calls and the PeerJS connection it uses.
    public struct CallID: Sendable, Hashable, CustomStringConvertible {
        public var peer: String
        public var connectionId: String
        public init(peer: String, connectionId: String) { self.peer = peer; self.connectionId = connectionId }
        public var description: String { "\(peer)/\(connectionId)" }
    }

    public struct Room: Sendable, Equatable {
        public var code: String
        public var openedAt: Int64
        public var expiresAt: Int64
        /// This room's secret (`RoomSecret`): minted when the room opens, gone with the room.
        public var secret: RoomSecret
        /// The TURN credential minted for this ring (a page hosted elsewhere relays with it), or nil: kept
        /// with the room so every render of the QR shows the same link.
        public var turn: RoomTURN?

        public init(code: String, openedAt: Int64, expiresAt: Int64, secret: RoomSecret, turn: RoomTURN? = nil) {
            self.code = code; self.openedAt = openedAt; self.expiresAt = expiresAt; self.secret = secret
            self.turn = turn
        }

        /// The join link of this room.
        public func link(_ settings: Settings) -> RoomLink {
            settings.joinLink(code: code, secret: secret, turn: turn)
        }
    }

    /// A caller whose offer waits for ANSWER; the actor keeps the offer (webrtcbin needs it to answer).
    public struct Pending: Sendable, Equatable {
        public var call: CallID
        public var proved: Bool
        public var deadline: Int64
        /// A paired browser's answer: once accepted, the call is a visit others may join.
        public var household = false
    }

    /// A call the door places, waiting for the peer's answer until `deadline`.
    public struct Dial: Sendable, Equatable {
        public var call: CallID
        public var deadline: Int64
        public init(call: CallID, deadline: Int64) { self.call = call; self.deadline = deadline }
    }

    /// The accepted call.
    public struct ActiveCall: Sendable, Equatable {
        public var call: CallID
        public var since: Int64
        /// Until media connects; nil once connected.
        public var connectDeadline: Int64?
        public var muted = false
        /// Answered by a paired browser: other paired browsers may join (`phones`).
        public var household = false
        /// The phones that joined after `call`, in the order they joined.
        public var phones: [CallID] = []

        public init(call: CallID, since: Int64, connectDeadline: Int64?, muted: Bool = false, household: Bool = false,
                    phones: [CallID] = []) {
            self.call = call; self.since = since; self.connectDeadline = connectDeadline; self.muted = muted
            self.household = household; self.phones = phones
        }

        /// Every phone on the call: the first, then those that joined.
        public var members: [CallID] { [call] + phones }
    }

    public enum Phase: Sendable, Equatable {
        case idle
        /// Ringing: the room is registered and its QR shown; nobody called yet.
        case room(Room)
        /// A caller without the secret waits for ANSWER or DECLINE.
        case knock(Room, Pending)
        /// A caller with the secret waits for ANSWER (only with `autoAcceptProvenCallers` off).
        case incoming(Room, Pending)
        /// The accepted call (answered, or placed by the door and answered); its room, if it came through one,
        /// stays registered for its signaling but no longer expires.
        case inCall(Room?, ActiveCall)
        /// The door calls a peer and waits for its answer; an open room stays open and ringing meanwhile.
        case dialing(Room?, Dial)
        /// The "ended" screen until `until`, then idle.
        case ending(reason: String, until: Int64)
        /// The pairing window: its QR and countdown until the window closes.
        case pairing(PairingWindow)
        /// "Paired: <name>" until `until`, then idle.
        case paired(name: String, until: Int64)

        /// The name the control socket reports.
        public var name: String {
            switch self {
            case .idle: "idle"
            case .room: "room"
            case .knock: "knock"
            case .incoming: "incoming"
            case .inCall: "in-call"
            case .dialing: "dialing"
            case .ending: "ending"
            case .pairing: "pairing"
            case .paired: "paired"
            }
        }

        /// The open room, in every phase that has one.
        public var room: Room? {
            switch self {
            case .room(let room), .knock(let room, _), .incoming(let room, _): room
            case .inCall(let room, _), .dialing(let room, _): room
            case .idle, .ending, .pairing, .paired: nil
            }
        }

        /// The caller waiting for ANSWER, if any.
        public var pending: Pending? {
            switch self {
            case .knock(_, let pending), .incoming(_, let pending): pending
            default: nil
            }
        }

        /// The timers this phase runs and when each fires. Nothing else may be armed.
        public var deadlines: [TimerKind: Int64] {
            switch self {
            case .idle: [:]
            case .room(let room): [.roomExpiry: room.expiresAt]
            case .knock(let room, let pending): [.roomExpiry: room.expiresAt, .knock: pending.deadline]
            case .incoming(let room, let pending): [.roomExpiry: room.expiresAt, .answer: pending.deadline]
            case .inCall(_, let active): active.connectDeadline.map { [.connect: $0] } ?? [:]
            case .dialing(let room, let dial): [.dial: dial.deadline].merging(room.map { [.roomExpiry: $0.expiresAt] } ?? [:]) { $1 }
            case .ending(_, let until), .paired(_, let until): [.ending: until]
            case .pairing(let window): [.pairing: window.expiresAt]
            }
        }
    }

    public enum TimerKind: String, Sendable, CaseIterable, Hashable {
        /// The unanswered room closes.
        case roomExpiry = "room-expiry"
        /// A knock nobody answered is refused.
        case knock
        /// A proved caller nobody answered is refused.
        case answer
        /// An accepted call whose media never connected is hung up.
        case connect
        /// The "ended" (or "Paired") screen gives way to idle.
        case ending
        /// The pairing window closes unused.
        case pairing = "pairing-window"
        /// A call the door placed got no answer in time.
        case dial
    }

    /// `lost`: the peer went silent mid-call (its browser vanished without hanging up).
    public enum EndedBy: String, Sendable { case remote, local, failed, lost }

    /// Why a caller is turned away; the actor tells the caller (PeerJS `LEAVE` with this reason).
    public enum Refusal: String, Sendable {
        /// Another call runs or another caller waits.
        case busy
        /// The household visit already has `maxPhones` phones.
        case full
        /// Somebody pressed DECLINE.
        case declined
        /// Nobody pressed ANSWER in time.
        case timeout
        /// The room closed while the caller waited.
        case closed
    }

    public enum Event: Sendable, Equatable {
        case press(ButtonPress)
        /// A media offer arrived for the open room; `proved` says whether it proved the room's secret
        /// (`JoinVerifier`).
        case offer(CallID, proved: Bool)
        /// The accepted call's media connected (ICE connected).
        case callConnected(CallID)
        /// A call ended on its own (the caller hung up, left signaling, or the media failed). For a caller still
        /// waiting for ANSWER this means it gave up.
        case callEnded(CallID, EndedBy)
        /// A timer asked for with `startTimer` fired.
        case timer(TimerKind)
        /// Once a second: redraws countdowns and the call clock. Changes no state.
        case tick
        /// The control socket asks to hang up (or to close the room).
        case hangUpRequested
        /// The signaling server keeps saying one of the room's peer IDs belongs to someone else: an open room
        /// moves to a fresh code and secret (same countdown), so the QR and link on the screen work again.
        case roomCodeTaken(String)
        /// `ctl pair`: open the pairing window (only while idle or on a passing screen).
        case pairRequested
        /// The device checked a page's pairing proof against the open window's token and stored the pairing.
        case pairedBrowser(name: String)
        /// `ctl call`: place a call to `call.peer` on the connection the actor named (`mc_…`), with the OFFER's
        /// `metadata` (nil: the door's own).
        case dial(CallID, metadata: JSONValue? = nil)
        /// The peer answered the call the door placed.
        case dialAnswered(CallID)
        /// A media offer to the open room from a paired browser that proved its pairing in this ring (and the
        /// room's secret): an answer that makes the call a household visit, or a join to the running one.
        case pairedOffer(CallID)
    }

    public enum Action: Sendable, Equatable {
        /// Register the room's peer IDs and tell people the link (which carries the room's secret).
        case openRoom(code: String, link: RoomLink)
        /// The doorbell again while the room is open: tell people again, same code and link.
        case ringAgain(code: String, link: RoomLink)
        /// Unregister the room's peer ID and wipe what belongs to the room.
        case closeRoom(code: String)
        /// Build the media session from the kept offer and answer it.
        case answer(CallID)
        /// Answer the kept offer of a paired browser onto the running visit (the first phone's media).
        case join(CallID)
        /// A phone left the visit; the others stay on.
        case left(CallID)
        /// Build a media session that offers a call to `call.peer` (the door calls out), with the event's metadata.
        case dial(CallID, metadata: JSONValue? = nil)
        /// Turn a caller away: drop its offer and tell it why. No media object was ever made for it.
        case refuse(CallID, Refusal)
        /// Drop an offer without a word (no answer, no ICE candidates, no IP address leaked).
        case ignore(CallID, reason: String)
        case hangUp(CallID)
        /// Close or open the device microphone in the running call, and tell the peer.
        case setMuted(Bool)
        /// Arm the timer `kind` to fire at `at` (ms, the same clock as `now`); replaces an armed one.
        case startTimer(TimerKind, at: Int64)
        case cancelTimer(TimerKind)
        case show(Screen)
        /// A pairing window opened: accept pairing data connections at the home ID for `link.token`.
        case openPairing(link: PairingLink)
        /// The pairing window closed (used, expired or cancelled): accept no more pairing connections.
        case closePairing
    }

    public private(set) var phase: Phase = .idle
    /// The token of the last window that paired a browser: a page presenting it again is told "used" rather
    /// than "expired".
    public private(set) var spentToken: PairingToken?
    public let settings: Settings
    private var makeCode: @Sendable () -> String
    private var makeSecret: @Sendable () -> RoomSecret
    private var makeToken: @Sendable () -> PairingToken
    private var makeRoomTURN: @Sendable (_ lifetimeMillis: Int64) -> RoomTURN?

    /// `makeRoomTURN` mints the TURN credential of a ring valid for the room's lifetime (given in ms), or
    /// gives nil (no TURN server with a shared secret): the machine has no wall clock and no key of its own.
    public init(settings: Settings = Settings(), makeCode: @escaping @Sendable () -> String = RoomCode.random,
                makeSecret: @escaping @Sendable () -> RoomSecret = RoomSecret.random,
                makeToken: @escaping @Sendable () -> PairingToken = PairingToken.random,
                makeRoomTURN: @escaping @Sendable (_ lifetimeMillis: Int64) -> RoomTURN? = { _ in nil }) {
        self.settings = settings
        self.makeCode = makeCode
        self.makeSecret = makeSecret
        self.makeToken = makeToken
        self.makeRoomTURN = makeRoomTURN
    }

    public mutating func handle(_ event: Event, now: Int64) -> [Action] {
        switch event {
        case .press(let press): pressed(press, now: now)
        case .offer(let call, let proved): offered(call, proved: proved, now: now)
        case .callConnected(let call): connected(call, now: now)
        case .callEnded(let call, let endedBy): ended(call, by: endedBy, now: now)
        case .timer(let kind): fired(kind, now: now)
        case .tick: currentScreen(now: now).map { [.show($0)] } ?? []
        case .hangUpRequested: close(refusal: .closed, now: now)
        case .roomCodeTaken(let code): recode(code, now: now)
        case .pairRequested: openPairing(now: now)
        case .pairedBrowser(let name): paired(name, now: now)
        case .dial(let call, let metadata): dial(call, metadata: metadata, now: now)
        case .dialAnswered(let call): dialAnswered(call, now: now)
        case .pairedOffer(let call): offered(call, proved: true, household: true, now: now)
        }
    }

    // MARK: - Buttons

    private mutating func pressed(_ press: ButtonPress, now: Int64) -> [Action] {
        switch (press.button, phase) {
        case (.doorbell, .idle) where press.long && settings.canPair:
            return openPairing(now: now)
        case (.doorbell, .idle), (.doorbell, .ending), (.doorbell, .paired):
            return openRoom(now: now)
        case (.doorbell, .pairing):
            // A visitor must never be kept out by a pairing: the bell cancels it and rings.
            return [.closePairing] + openRoom(now: now)
        case (.doorbell, .room), (.doorbell, .knock), (.doorbell, .incoming):
            return ringAgain(now: now)
        case (.doorbell, .inCall):
            return []
        case (.doorbell, .dialing(let room, let dial)):
            // The visitor at the door comes first: give up the attempt, then ring as if it had never been.
            let back = [.hangUp(dial.call)] + move(to: room.map(Phase.room) ?? .idle, now: now).filter { !$0.isShow }
            return back + pressed(press, now: now)

        case (.answer, .knock(let room, let pending)), (.answer, .incoming(let room, let pending)):
            return accept(pending.call, in: room, household: pending.household, now: now)
        case (.answer, _):
            return []

        case (.decline, .knock(let room, let pending)), (.decline, .incoming(let room, let pending)):
            // Short: turn this caller away, keep ringing for the right one. Long: close the room as well.
            if press.long { return close(refusal: .declined, now: now) }
            return [.refuse(pending.call, .declined)] + move(to: .room(room), now: now)
        case (.decline, .dialing(let room?, let dial)) where !press.long:
            // Cancel the attempt; the room keeps ringing (as after refusing a knock).
            return [.hangUp(dial.call)] + move(to: .room(room), now: now)
        case (.decline, .room), (.decline, .inCall), (.decline, .pairing), (.decline, .dialing):
            return close(refusal: .declined, now: now)
        case (.decline, _):
            return []

        case (.mute, .inCall(let room, var active)):
            active.muted.toggle()
            return [.setMuted(active.muted)] + move(to: .inCall(room, active), now: now)
        case (.mute, _):
            return []
        }
    }

    // MARK: - Signaling

    private mutating func offered(_ call: CallID, proved: Bool, household: Bool = false, now: Int64) -> [Action] {
        switch phase {
        case .idle, .ending, .pairing, .paired, .dialing(nil, _):
            return [.ignore(call, reason: "no room is open")]
        case .dialing:
            return [.refuse(call, .busy)]
        case .room(let room):
            return admit(call, proved: proved, household: household, in: room, now: now)
        case .knock(let room, let pending), .incoming(let room, let pending):
            if call == pending.call { return [] } // the same offer again: the actor keeps the newest copy
            if call.peer == pending.call.peer {
                // The page called again (a new connection): the old one is dead on its side.
                return [.ignore(pending.call, reason: "replaced by a newer offer from the same peer")]
                    + admit(call, proved: proved, household: household, in: room, now: now)
            }
            // A caller with the secret is not kept waiting behind a knock: knocks must not be able to lock
            // the residents out.
            if case .knock = phase, proved {
                return [.refuse(pending.call, .busy)] + admit(call, proved: proved, household: household, in: room, now: now)
            }
            return [.refuse(call, .busy)]
        case .inCall(let room, var active):
            if active.members.contains(call) { return [.ignore(call, reason: "the running call offered again")] }
            // Telling this peer "busy" (LEAVE) would close its running call too.
            if active.members.contains(where: { $0.peer == call.peer }) {
                return [.ignore(call, reason: "already in a call with this peer")]
            }
            guard household, active.household, settings.maxPhones > 1 else { return [.refuse(call, .busy)] }
            guard active.members.count < settings.maxPhones else { return [.refuse(call, .full)] }
            active.phones.append(call)
            return [.join(call)] + move(to: .inCall(room, active), now: now)
        }
    }

    /// An offer in an open room with nobody waiting: answer it, or keep it waiting for ANSWER.
    private mutating func admit(_ call: CallID, proved: Bool, household: Bool = false, in room: Room,
                                now: Int64) -> [Action] {
        let accepted = proved || !settings.knocksNeedAnswer
        if accepted, settings.autoAcceptProvenCallers { return accept(call, in: room, household: household, now: now) }
        if accepted {
            let pending = Pending(call: call, proved: true, deadline: now + settings.answerTimeoutMillis,
                                  household: household)
            return move(to: .incoming(room, pending), now: now)
        }
        let pending = Pending(call: call, proved: false, deadline: now + settings.knockTimeoutMillis)
        return move(to: .knock(room, pending), now: now)
    }

    /// The only way into a call, and so the only place media is asked for.
    private mutating func accept(_ call: CallID, in room: Room, household: Bool = false, now: Int64) -> [Action] {
        let active = ActiveCall(call: call, since: now, connectDeadline: now + settings.connectTimeoutMillis,
                                household: household)
        return [.answer(call)] + move(to: .inCall(room, active), now: now)
    }

    // MARK: - Media

    private mutating func connected(_ call: CallID, now: Int64) -> [Action] {
        guard case .inCall(let room, var active) = phase, active.call == call, active.connectDeadline != nil else {
            return []
        }
        active.connectDeadline = nil
        return move(to: .inCall(room, active), now: now)
    }

    /// What the screen says when a call that was up ends.
    static func endingText(_ endedBy: EndedBy) -> String {
        switch endedBy {
        case .failed: "Call failed"
        case .lost: "Connection lost"
        case .remote, .local: "Call ended"
        }
    }

    private mutating func ended(_ call: CallID, by endedBy: EndedBy, now: Int64) -> [Action] {
        switch phase {
        case .inCall(let room, var active) where active.members.count > 1 && active.members.contains(call):
            // One phone of a visit left: the others stay on; the next one takes the first one's place.
            if active.call == call {
                active.call = active.phones.removeFirst()
                active.connectDeadline = nil
            } else {
                active.phones.removeAll { $0 == call }
            }
            return [.left(call)] + move(to: .inCall(room, active), now: now)
        case .dialing(let room, let dial) where dial.call == call:
            // The peer is not there (EXPIRE), left, or the attempt failed: an open room keeps ringing.
            if let room { return move(to: .room(room), now: now) }
            return move(to: .ending(reason: endedBy == .failed ? "Call failed" : "No answer", until: now + settings.endingMillis),
                        now: now)
        case .inCall(let room?, let active) where active.call == call && active.connectDeadline != nil && endedBy == .failed:
            // The media never connected (no candidate pair, ICE failed): the visitor may try again from another
            // network or another phone, so the room waits for the next caller, as after a failed call out.
            return backToRoom(room, now: now)
        case .inCall(let room, let active) where active.call == call:
            return (room.map { [Action.closeRoom(code: $0.code)] } ?? [])
                + move(to: .ending(reason: Self.endingText(endedBy), until: now + settings.endingMillis), now: now)
        case .knock(let room, let pending) where pending.call == call,
             .incoming(let room, let pending) where pending.call == call:
            return [.ignore(call, reason: "the caller left before anyone answered")] + move(to: .room(room), now: now)
        default:
            return []
        }
    }

    /// A call in `room` failed before its media connected: the room is open again until its own countdown ends
    /// (the room's timer did not run during the call); past that countdown it closes as failed.
    private mutating func backToRoom(_ room: Room, now: Int64) -> [Action] {
        if room.expiresAt > now { return move(to: .room(room), now: now) }
        return [.closeRoom(code: room.code)]
            + move(to: .ending(reason: Self.endingText(.failed), until: now + settings.endingMillis), now: now)
    }

    // MARK: - Calling out

    private mutating func dial(_ call: CallID, metadata: JSONValue?, now: Int64) -> [Action] {
        let room: Room?
        switch phase {
        case .idle, .ending, .paired: room = nil
        case .room(let open): room = open
        case .knock, .incoming, .inCall, .dialing, .pairing: return [] // busy: the actor says so
        }
        return [.dial(call, metadata: metadata)] + move(to: .dialing(room, Dial(call: call, deadline: now + settings.dialTimeoutMillis)), now: now)
    }

    /// The peer answered: the door's call from now on, media connecting.
    private mutating func dialAnswered(_ call: CallID, now: Int64) -> [Action] {
        guard case .dialing(let room, let dial) = phase, dial.call == call else { return [] }
        let active = ActiveCall(call: call, since: now, connectDeadline: now + settings.connectTimeoutMillis)
        return move(to: .inCall(room, active), now: now)
    }

    // MARK: - Timers

    private mutating func fired(_ kind: TimerKind, now: Int64) -> [Action] {
        // A timer the phase does not run is stale (the actor cancels on request, but never trust that).
        guard phase.deadlines[kind] != nil else { return [] }
        // The timer that fired is gone already; cancelling it again would be noise.
        return firedActions(kind, now: now).filter { $0 != .cancelTimer(kind) }
    }

    private mutating func firedActions(_ kind: TimerKind, now: Int64) -> [Action] {
        switch (kind, phase) {
        case (.roomExpiry, .dialing(let room?, let dial)):
            // The room's time is up, the call attempt goes on.
            return [.closeRoom(code: room.code)] + move(to: .dialing(nil, dial), now: now)
        case (.dial, .dialing(let room, let dial)):
            if let room { return [.hangUp(dial.call)] + move(to: .room(room), now: now) }
            return close(reason: "No answer", refusal: .closed, now: now)
        case (.roomExpiry, _):
            return close(reason: "Nobody answered", refusal: .timeout, now: now)
        case (.knock, .knock(let room, let pending)), (.answer, .incoming(let room, let pending)):
            return [.refuse(pending.call, .timeout)] + move(to: .room(room), now: now)
        case (.connect, .inCall(let room, var active)) where !active.phones.isEmpty:
            // The first phone never connected but others joined: it goes (its end is a `left`), they stay.
            active.connectDeadline = nil
            return [.hangUp(active.call)] + move(to: .inCall(room, active), now: now)
        case (.connect, .inCall(let room?, let active)):
            // Answered but never connected: hung up, and the room waits for the next caller (see `ended`).
            return [.hangUp(active.call)] + backToRoom(room, now: now)
        case (.connect, .inCall):
            return close(reason: "Call failed", refusal: .closed, now: now)
        case (.ending, .ending), (.ending, .paired):
            return move(to: .idle, now: now)
        case (.pairing, .pairing):
            return [.closePairing] + move(to: .idle, now: now)
        default:
            return []
        }
    }

    // MARK: - Phase changes

    private mutating func openRoom(now: Int64) -> [Action] {
        // A fresh secret every time a room opens: a link from an earlier room never works again.
        let room = Room(code: makeCode(), openedAt: now, expiresAt: now + settings.roomLifetimeMillis,
                        secret: makeSecret(), turn: makeRoomTURN(settings.roomLifetimeMillis))
        return [.openRoom(code: room.code, link: room.link(settings))]
            + move(to: .room(room), now: now)
    }

    private mutating func recode(_ taken: String, now: Int64) -> [Action] {
        guard case .room(var room) = phase, room.code == taken else { return [] }
        var fresh = makeCode()
        for _ in 0..<8 where fresh == taken { fresh = makeCode() }
        room.code = fresh
        room.secret = makeSecret()
        room.turn = makeRoomTURN(room.expiresAt - now)
        return [.closeRoom(code: taken), .openRoom(code: fresh, link: room.link(settings))]
            + move(to: .room(room), now: now)
    }

    /// Ringing again keeps the code (people may already be typing it) and restarts the countdown; a waiting
    /// caller keeps waiting.
    private mutating func ringAgain(now: Int64) -> [Action] {
        // A new ring mints a new TURN credential for the longer room (links sent earlier keep theirs).
        func rung(_ room: Room) -> Room {
            var room = room
            room.expiresAt = now + settings.roomLifetimeMillis
            room.turn = makeRoomTURN(settings.roomLifetimeMillis)
            return room
        }
        let next: Phase
        switch phase {
        case .room(let room): next = .room(rung(room))
        case .knock(let room, let pending): next = .knock(rung(room), pending)
        case .incoming(let room, let pending): next = .incoming(rung(room), pending)
        case .idle, .inCall, .dialing, .ending, .pairing, .paired: return []
        }
        guard let room = next.room else { return [] }
        return [.ringAgain(code: room.code, link: room.link(settings))]
            + move(to: next, now: now)
    }

    /// Ends whatever runs: the call is hung up, a waiting caller refused with `refusal`, the room closed.
    /// `reason` is what the "ended" screen says; by default "Call ended" for a call, else "Room closed".
    private mutating func close(reason: String? = nil, refusal: Refusal, now: Int64) -> [Action] {
        var actions: [Action] = []
        var shown = reason ?? "Room closed"
        switch phase {
        case .idle, .ending, .paired: return []
        case .pairing: return [.closePairing] + move(to: .idle, now: now)
        case .room: break
        case .knock(_, let pending), .incoming(_, let pending): actions.append(.refuse(pending.call, refusal))
        case .inCall(_, let active):
            actions += active.members.map(Action.hangUp)
            shown = reason ?? "Call ended"
        case .dialing(_, let dial):
            actions.append(.hangUp(dial.call))
            shown = reason ?? "Call cancelled"
        }
        if let room = phase.room { actions.append(.closeRoom(code: room.code)) }
        return actions + move(to: .ending(reason: shown, until: now + settings.endingMillis), now: now)
    }

    /// Enters `next`: cancels the timers only the old phase ran, starts the new or moved ones, shows the screen.
    private mutating func move(to next: Phase, now: Int64) -> [Action] {
        let before = phase.deadlines
        let after = next.deadlines
        phase = next
        var actions: [Action] = []
        for kind in TimerKind.allCases {
            if let at = after[kind] {
                if before[kind] != at { actions.append(.startTimer(kind, at: at)) }
            } else if before[kind] != nil {
                actions.append(.cancelTimer(kind))
            }
        }
        if let screen = currentScreen(now: now) { actions.append(.show(screen)) }
        return actions
    }

    private func currentScreen(now: Int64) -> Screen? {
        func secondsLeft(_ deadline: Int64) -> Int { Int(max(0, deadline - now) / 1000) }
        switch phase {
        case .idle:
            return .idle(doorName: settings.doorName)
        case .room(let room):
            return .room(code: room.code, link: room.link(settings).url,
                         secondsLeft: secondsLeft(room.expiresAt))
        case .knock(_, let pending):
            return .knock(peer: pending.call.peer, secondsLeft: secondsLeft(pending.deadline))
        case .incoming(_, let pending):
            return .incomingCall(peer: pending.call.peer, secondsLeft: secondsLeft(pending.deadline))
        case .inCall(_, let active) where !active.phones.isEmpty:
            return .visit(peers: active.members.map(\.peer), seconds: Int((now - active.since) / 1000), muted: active.muted)
        case .inCall(_, let active):
            return .inCall(peer: active.call.peer, seconds: Int((now - active.since) / 1000), muted: active.muted)
        case .dialing(_, let dial):
            return .calling(peer: dial.call.peer, secondsLeft: secondsLeft(dial.deadline))
        case .ending(let reason, _):
            return .ended(reason: reason)
        case .pairing(let window):
            return .pairing(link: settings.pairingLink(token: window.token).url, secondsLeft: secondsLeft(window.expiresAt))
        case .paired(let name, _):
            return .paired(name: name)
        }
    }

    // MARK: - Pairing

    /// Opens the pairing window from idle or a passing screen; in an open window it restarts the countdown
    /// (same token: someone may be scanning it). During a room or a call it does nothing.
    private mutating func openPairing(now: Int64) -> [Action] {
        guard settings.canPair else { return [] }
        switch phase {
        case .idle, .ending, .paired:
            let window = PairingWindow(token: makeToken(), expiresAt: now + settings.pairingWindowMillis)
            return [.openPairing(link: settings.pairingLink(token: window.token))] + move(to: .pairing(window), now: now)
        case .pairing(var window):
            window.expiresAt = now + settings.pairingWindowMillis
            return move(to: .pairing(window), now: now)
        case .room, .knock, .incoming, .inCall, .dialing:
            return []
        }
    }

    /// A browser proved the window's token and was stored: the token is spent, the window closes.
    private mutating func paired(_ name: String, now: Int64) -> [Action] {
        guard case .pairing(let window) = phase else { return [] }
        spentToken = window.token
        return [.closePairing] + move(to: .paired(name: name, until: now + settings.pairedScreenMillis), now: now)
    }
}

/// The 5-digit code people read off the screen.
public enum RoomCode {
    @Sendable public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = Int.random(in: 0..<100_000, using: &generator)
        let digits = String(value)
        return String(repeating: "0", count: 5 - digits.count) + digits
    }
}

extension CallStateMachine.Action {
    var isShow: Bool { if case .show = self { true } else { false } }
}
