/// The door's decisions as a value: events in, actions out, no I/O and no clock of its own (`now` is passed
/// in), so every order of events can be tested without sleeping.
public struct CallStateMachine: Sendable {
    public struct Settings: Sendable, Equatable {
        public var roomLifetimeMillis: Int64 = 120_000
        public var doorName = "Front door"
        /// Where the web client lives; join links are `<webBase>/?room=<code>`.
        public var webBase = "http://localhost:8080"
        public init() {}

        public func joinLink(code: String) -> String {
            (webBase.hasSuffix("/") ? webBase : webBase + "/") + "?room=" + code
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
    }

    public enum Phase: Sendable, Equatable {
        case idle
        case room(Room)
        case inCall(Room, CallID, since: Int64)
    }

    public enum EndedBy: String, Sendable { case remote, local, failed }

    public enum Event: Sendable, Equatable {
        case press(ButtonPress)
        /// A media offer arrived for the open room.
        case offer(CallID)
        case callEnded(CallID, EndedBy)
        /// Once a second: countdowns and expiry.
        case tick
        /// The control socket or a later feature asks to hang up.
        case hangUpRequested
    }

    public enum Action: Sendable, Equatable {
        /// Register the room's peer ID and tell people the link.
        case openRoom(code: String, link: String)
        /// Unregister the room's peer ID.
        case closeRoom(code: String)
        case answer(CallID)
        /// Drop an offer without answering (no ICE candidates, no IP address leaked).
        case ignore(CallID, reason: String)
        case hangUp(CallID)
        case show(Screen)
    }

    public private(set) var phase: Phase = .idle
    public let settings: Settings
    private var makeCode: @Sendable () -> String

    public init(settings: Settings = Settings(), makeCode: @escaping @Sendable () -> String = RoomCode.random) {
        self.settings = settings
        self.makeCode = makeCode
    }

    public mutating func handle(_ event: Event, now: Int64) -> [Action] {
        switch (phase, event) {
        case (.idle, .press(let press)) where press.button == .doorbell:
            return open(now: now)
        case (.room(var room), .press(let press)) where press.button == .doorbell:
            // Ringing again keeps the code (people may already be typing it) and restarts the countdown.
            room.expiresAt = now + settings.roomLifetimeMillis
            phase = .room(room)
            return [.show(roomScreen(room, now: now))]
        case (.room(let room), .offer(let call)):
            phase = .inCall(room, call, since: now)
            return [.answer(call), .show(.inCall(peer: call.peer, seconds: 0, muted: false))]
        case (.inCall(_, let current, _), .offer(let call)) where call != current:
            return [.ignore(call, reason: "busy: already in a call")]
        case (.idle, .offer(let call)):
            return [.ignore(call, reason: "no room is open")]
        case (.inCall(let room, let call, _), .press(let press)) where press.button == .decline:
            return end(room, call, hangUp: true)
        case (.inCall(let room, let call, _), .hangUpRequested):
            return end(room, call, hangUp: true)
        case (.inCall(let room, let current, _), .callEnded(let call, _)) where call == current:
            return end(room, call, hangUp: false)
        case (.room(let room), .press(ButtonPress(.decline))), (.room(let room), .hangUpRequested):
            phase = .idle
            return [.closeRoom(code: room.code), .show(.idle(doorName: settings.doorName))]
        case (.room(let room), .tick):
            if now >= room.expiresAt {
                phase = .idle
                return [.closeRoom(code: room.code), .show(.ended(reason: "Nobody answered")),
                        .show(.idle(doorName: settings.doorName))]
            }
            return [.show(roomScreen(room, now: now))]
        case (.inCall(_, let call, let since), .tick):
            return [.show(.inCall(peer: call.peer, seconds: Int((now - since) / 1000), muted: false))]
        default:
            return []
        }
    }

    private mutating func open(now: Int64) -> [Action] {
        let room = Room(code: makeCode(), openedAt: now, expiresAt: now + settings.roomLifetimeMillis)
        phase = .room(room)
        return [.openRoom(code: room.code, link: settings.joinLink(code: room.code)), .show(roomScreen(room, now: now))]
    }

    /// A call ends: the room is single-caller, so it closes with it.
    private mutating func end(_ room: Room, _ call: CallID, hangUp: Bool) -> [Action] {
        phase = .idle
        var actions: [Action] = hangUp ? [.hangUp(call)] : []
        actions += [.closeRoom(code: room.code), .show(.ended(reason: "Call ended")),
                    .show(.idle(doorName: settings.doorName))]
        return actions
    }

    private func roomScreen(_ room: Room, now: Int64) -> Screen {
        .room(code: room.code, link: settings.joinLink(code: room.code), secondsLeft: Int(max(0, room.expiresAt - now) / 1000))
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
