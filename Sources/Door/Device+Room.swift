import Admission
import Buttons
import CGLib
import Control
import Display
import Glibc
import DoorCore
import MainLoop
import Media
import Notify
import Signaling

/// The open room: its two registrations (the secret-derived ID and the knock ID), what reaches them, routed
/// strictly by (peer, connectionId), and closed rooms' registrations kept until their LEAVEs are out.
extension Device {
    /// A closed room's registration stops at once, unless a hang-up LEAVE still has to go out through it.
    func retire(_ client: (any SignalingChannel)?) {
        guard let client else { return }
        if calls.sayingHangUps { retiring.append(client) } else { client.stop() }
    }

    /// How long the hang-up LEAVE waits for the caller's data channels' close to reach it.
    static let leaveAfterChatsCloseMillis: UInt32 = 250

    /// The registration a call came through.
    func signaling(for call: CallID) -> (any SignalingChannel)? {
        guard let record = calls[call] else { return room?.client }
        if record.dial != nil { return home?.client }
        return room?.client(for: record.door ?? .room)
    }

    /// Registers the room's secret-derived peer ID (callers with the link) and its knock peer ID (callers who
    /// typed the code). `link` prints redacted; only the screen, `ctl link` and a terminal get the whole link.
    func openRoom(code: String, link: RoomLink) {
        let gate = RoomGate(link: link, prefix: options.roomPrefix)
        room = OpenRoom(link: link, gate: gate)
        func register(_ peerID: String, _ door: RoomGate.Door) -> any SignalingChannel {
            var clientOptions = PeerJSClient.Options(server: signalingURL, id: peerID)
            clientOptions.key = options.key
            clientOptions.allowSelfSigned = signalingIsOwnServer
            clientOptions.token = ownClientToken()
            let client = endpoint.connect(clientOptions, host)
            client.onMessage = { [weak self] message in self?.admit(message, door: door) }
            var notified = false
            client.onOpen = { [weak self] in
                self?.control?.publish(.roomReachable(code: code, door: door.rawValue, peerId: peerID))
                // Reachable: now the link works, so now people hear of it (once, not again on a reconnect).
                guard let self, door == .room, !notified else { return }
                notified = true
                // The machine's deadlines are monotonic; a notice and a phone's countdown need a date.
                let expiresAt = DoorClock.system.wallTime(ofMonotonic: machine.phase.room?.expiresAt
                                                          ?? DoorClock.system.monotonicMillis() + options.roomLifetimeMillis)
                let picture = makeRingPicture()
                notifier?.ring(RingNotice(doorName: options.doorName, code: code, link: link.url,
                                          timeMillis: wallClockMillis(), expiresAtMillis: expiresAt),
                               ttlSeconds: Int(options.roomLifetimeMillis / 1000), alsoTo: pairedPushSubscriptions(),
                               picture: picture)
                ringPairedBrowsers(code: code, link: link, expiresAt: expiresAt)
                // A visitor is coming: their call's answer is built against a running pipeline. Started once the
                // room is reachable and announced, so the screen and the link are not held up by it.
                media.warmUp { [weak self] in
                    guard let self else { return }
                    grabRingPicture(picture)
                    visits?.roomWarm(media: media)
                }
            }
            client.onFailure = { [weak self] error in
                guard error.code == .idTaken else {
                    return Log.error("intercom", "room \(code) cannot register its \(door.rawValue) ID: \(error)")
                }
                Log.warning("intercom", "room \(code): the peer ID \(peerID) belongs to someone else; "
                            + "reopening the room under a new code")
                self?.handle(.roomCodeTaken(code))
            }
            client.start()
            return client
        }
        room?.client = register(gate.roomPeerID, .room)
        room?.knockClient = register(gate.knockPeerID, .knock)
        Log.info("intercom", "room \(code) open, join link: \(link)")
        // A terminal (make run) is the person at the door, who sees the QR anyway; a pipe or the journal is a log.
        Log.standardOutput("join link: \(isatty(1) == 1 ? link.url : link.redacted)")
        control?.publish(.roomOpened(code: code, link: link.redacted))
    }


    // MARK: - What reaches the room (routed by Device+Routing.swift)

    /// Applies `SignalingLimits` before anything is parsed further. Refusals are logged at most once a second.
    func admit(_ message: PeerJSMessage, door: RoomGate.Door) {
        let now = monotonicMillis()
        switch limits.admit(message, now: now) {
        case .accept:
            route(message, door: door)
        case .drop(let reason):
            rooms.limitDrops.count += 1
            guard now - rooms.limitDrops.lastLogged >= 1000 else { return }
            Log.warning("intercom", "dropped \(message.type.rawValue) from \(message.src ?? "?"): \(reason)"
                        + (rooms.limitDrops.count > 1 ? " (\(rooms.limitDrops.count) dropped since the last line)" : ""))
            rooms.limitDrops = (0, now)
        }
    }

    /// A media OFFER to one of the room's IDs: the room gate decides before anything is built; what it lets in
    /// is kept in the call's record and goes to the state machine.
    func admitCall(_ payload: ConnectionPayload, from src: String, door: RoomGate.Door) {
        let call = CallID(peer: src, connectionId: payload.connectionId)
        guard var gate = room?.gate else { return }
        let addressedTo = door == .room ? gate.roomPeerID : gate.knockPeerID
        let verdict = gate.admit(JoinOffer(call: call, addressedTo: addressedTo, sdp: payload.sdp.sdp,
                                           metadata: payload.metadata), now: monotonicMillis())
        room?.gate = gate
        if verdict == .knockLimited {
            // Told, not ignored: the caller's page says to wait instead of ringing on unheard.
            Log.info("intercom", "refused a knock from \(src): over the knock limit")
            (door == .knock ? room?.knockClient : room?.client)?.send(
                .leave(to: src, LeavePayload(reason: "limited", connectionId: payload.connectionId)))
            return
        }
        if case .drop(let reason) = verdict {
            // No answer, no candidate, no media object: the caller learns nothing, not even our address.
            return Log.debug("intercom", "dropped an OFFER from \(src) to the \(door.rawValue) ID: \(reason)")
        }
        calls.update(call, door: door) { $0.door = door; $0.offer = payload }
        limits.opened(peer: src, connectionId: payload.connectionId)
        // A knock shows a fixed word: an unproved caller's chosen name ("POLICE – open the door") is theirs
        // to choose, so it is not drawn on the door's screen.
        latestCaller = (src, verdict == .proved ? CallerName.from(metadata: payload.metadata) : CallerName.fallback)
        handle(roomOfferEvent(call, proved: verdict == .proved))
    }

    /// Whether `peer` has a call waiting to be let in (a knock or an incoming call).
    func hasPendingCall(from peer: String) -> Bool { calls.records.values.contains { $0.call.peer == peer && $0.offer != nil } }

    /// Whether a call OFFER could still come and be taken: a room is open and no call is running.
    var mayTakeACall: Bool { room != nil && !calls.sessions.contains { !$0.session.isEnded } }
}
