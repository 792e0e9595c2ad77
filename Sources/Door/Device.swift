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

/// The running door: carries out the state machine's actions with the adapters, and feeds it their events.
@GLibActor
public final class Device {
    typealias CallID = CallStateMachine.CallID

    let options: DeviceOptions
    private(set) var machine: CallStateMachine
    private let host: WebSocketHost
    private let peerServer: PeerServer?
    private let signalingURL: WebSocketURL
    /// Signaling is the built-in server over loopback (whose TLS certificate, if any, names another host).
    var signalingIsOwnServer: Bool { options.signaling == nil }
    /// Tokens of the door's own clients on its built-in server start with this (random per start): the
    /// server does not count them against per-address or concurrent-ID limits meant for strangers.
    let ownTokenPrefix = "door" + PeerJSClient.randomToken(length: 22)

    /// A token for one of the door's own clients.
    func ownClientToken() -> String {
        signalingIsOwnServer ? ownTokenPrefix + PeerJSClient.randomToken() : PeerJSClient.randomToken()
    }
    let media: MediaEngine
    let display: Display?
    private let snapshotSink: SnapshotSink?
    var control: ControlServer?
    private let simulated = SimulatedButtons()
    private let terminal = TerminalButtons()
    private var gpio: GPIOButtons?
    /// The open room (its link, gate and two registrations); nil when no room is open.
    private var room: OpenRoom?
    /// What peers may send through signaling (rate, SDP size, candidates, concurrent connections).
    /// OFFERs are limited per peer by the RoomGate, which counts what it turns away; the rest here.
    var limits = SignalingLimits(settings: { var s = SignalingLimits.Settings(); s.rateLimitsOffers = false; return s }())
    private var limitDrops = (count: 0, lastLogged: Int64(0))
    private(set) var notifier: Notifier?
    /// Paired browsers (Device+Pairing.swift); nil without a state directory to keep them in.
    var paired: PairedBrowsers?
    /// Media objects ever made (the security tests count them: only accepted calls get one).
    var callSessionsCreated = 0
    /// One record per media call, answered or placed: its door, offer, session, DTLS verdict, dial.
    let calls = CallTable()
    /// The callers' data connections (chat), by (peer, connectionId): Device+Chat.swift.
    var chats: [CallID: DataLink] = [:]
    /// Data OFFERs from anyone but the door's caller (dropped without an answer).
    var dataOffersRefused = 0
    /// Data OFFERs from a caller whose call waits to be let in: Device+Chat.swift.
    var heldData: [CallID: HeldDataOffer] = [:]
    var heldDataSweep: GLibTimer?
    /// Closed rooms' registrations kept until those LEAVEs are out.
    private var retiring: [PeerJSClient] = []
    /// The door's permanent registration, the home ID, and what goes through it: Device+Dial.swift.
    var home: Home?
    private var lastCall: JSONValue = .null
    private var ticker: GLibTimer?
    /// The state machine's timers, one per kind (`startTimer` / `cancelTimer`).
    private var timers: [CallStateMachine.TimerKind: GLibTimer] = [:]
    private var signalSources: [guint] = []
    private let onExit: @Sendable () -> Void
    /// What runs, in start order; SIGTERM stops it in reverse (docs/architecture.md#lifecycle).
    let lifecycle = Lifecycle()

    public init(options: DeviceOptions, onExit: @escaping @Sendable () -> Void) throws {
        self.options = options
        self.onExit = onExit
        var settings = CallStateMachine.Settings()
        settings.doorName = options.doorName
        settings.webBase = options.webBase
        settings.roomLifetimeMillis = options.roomLifetimeMillis
        let door = options.configuration.door
        settings.knockTimeoutMillis = Int64(door.answerTimeoutSeconds) * 1000
        settings.answerTimeoutMillis = Int64(door.answerTimeoutSeconds) * 1000
        settings.dialTimeoutMillis = Int64(door.answerTimeoutSeconds) * 1000
        settings.knocksNeedAnswer = door.knocksNeedAnswer
        settings.autoAcceptProvenCallers = door.autoAcceptProvenCallers
        settings.pairingWindowMillis = Int64(door.pairingWindowSeconds) * 1000
        // The call's own bound (`ice.connect_timeout`) ends a call that finds no candidate pair and logs the
        // candidate types each side had; the machine's deadline is the backstop, a little later, so that
        // line is what the owner sees.
        settings.connectTimeoutMillis = Int64(options.configuration.ice.connectTimeoutSeconds) * 1000 + 2_000
        let homeID = options.deviceID.map { HomePeerID.make(prefix: options.roomPrefix, deviceID: $0) }
            ?? HomePeerID.random(prefix: options.roomPrefix)
        settings.homePeerID = homeID
        // The device ID lives in the state directory: with one, pairings can be kept there too.
        settings.canPair = options.deviceID != nil
        if options.deviceID != nil { paired = PairedBrowsers(stateDirectory: options.stateDirectory) }
        let roomICE = options.configuration.ice
        machine = CallStateMachine(settings: settings, makeRoomTURN: { lifetimeMillis in
            TURNCredential.room(roomICE, now: PageConfiguration.now(), roomLifetimeSeconds: Int(lifetimeMillis / 1000))
        })

        do {
            let opened = try DisplayBackend.open(options.display)
            (display, snapshotSink) = (opened.display, opened.snapshots)
            Log.info("display", opened.description)
            lifecycle.started("display") { opened.display.stop() }
        } catch {
            Log.error("display", "screen unavailable: \(error)")
            (display, snapshotSink) = (nil, nil)
        }
        var mediaSettings = options.media
        mediaSettings.remoteVideoWidth = display.map { min($0.width, 1280) } ?? 0
        mediaSettings.selfViewWidth = display.map { $0.width / 4 } ?? 0
        mediaSettings.remoteVideoFramesPerSecond = max(1, options.display.videoFramesPerSecond)
        media = try MediaEngine(settings: mediaSettings)
        let ice = options.configuration.ice
        WebRTCICE.servers = { TURNCredential.servers(ice, name: "door", now: PageConfiguration.now()) }
        WebRTCICE.connectTimeoutMillis = ice.connectTimeoutSeconds * 1000
        if !ice.isEmpty {
            Log.info("media", "ICE servers: " + (ice.stunServers + ice.turnServers.map(\.url)).joined(separator: ", "))
        }
        host = try WebSocketHost(listen: options.listen, tls: options.tls)
        if options.listen != nil {
            var serverSettings = PeerServer.Settings()
            serverSettings.webRoot = options.webRoot
            serverSettings.core.key = options.key
            let page = PageConfiguration(configuration: options.configuration)
            serverSettings.pageConfiguration = { page.json(now: PageConfiguration.now(), servedByDoor: true) }
            // Strangers reach this server: budget each socket, bound the queues, and keep a dropped ID for
            // its token long enough for the door's own clients to come back (docs/security-hostile-network.md).
            serverSettings.budget = PeerServer.SocketBudget()
            serverSettings.allowedOrigins = [options.webBase] + options.allowedOrigins
            // Sized for a Pi with the unit's LimitNOFILE=4096: strangers get at most 1,000 IDs and 32 sockets
            // per address; the door's own clients are not counted.
            serverSettings.core.concurrentLimit = 1_000
            serverSettings.maxSocketsPerAddress = 32
            // Every connection (HTTP too) per address, refused as it is accepted: room for a page's parallel
            // fetches besides the WebSockets.
            host.maxConnectionsPerAddress = 64
            host.httpsBase = WebSocketHost.httpsOrigin(of: options.webBase)
            serverSettings.ownTokenPrefix = ownTokenPrefix
            serverSettings.core.reclaimGraceMillis = 20_000
            // Room-code IDs answer strangers alike whether a room holds them or not (M1).
            serverSettings.core.guessableIDs = .init(prefix: options.roomPrefix)
            peerServer = PeerServer(host: host, settings: serverSettings)
            if options.webRoot == nil { Log.warning("intercom", "no web client directory found; serving signaling only") }
        } else {
            peerServer = nil
        }
        if let text = options.signaling {
            signalingURL = try WebSocketURL(parsing: text)
        } else {
            // Our own server over loopback: with TLS on, its certificate names the public host, not 127.0.0.1.
            signalingURL = WebSocketURL(secure: host.listensSecurely, host: "127.0.0.1", port: options.listen!.port, path: "/")
        }


        lifecycle.started("web server") { [host] in host.shutDown() }
        notifier = try Self.makeNotifier(options.configuration)
        lifecycle.started("notifier") { [weak self] in self?.notifier?.cancelAll() }
        notifier?.onDelivered = { [weak self] delivery in
            self?.control?.publish(["event": "notified", "target": .string(delivery.target),
                                    "origin": .string(delivery.origin), "attempts": .number(Double(delivery.attempts))])
        }

        simulated.start { [weak self] press in self?.handle(.press(press)) }
        try terminal.start { [weak self] press in self?.handle(.press(press)) }
        if let configuration = options.gpio {
            let buttons = GPIOButtons(configuration)
            try buttons.start { [weak self] press in self?.handle(.press(press)) }
            gpio = buttons
        }
        lifecycle.started("buttons") { [weak self] in self?.stopButtons() }
        ticker = GLibTimer(milliseconds: 1000, repeating: true) { [weak self] in self?.handle(.tick) }
        installSignalHandlers()
        let control = ControlServer(path: options.controlPath) { [weak self] request in
            self?.handleControl(request) ?? ["ok": false, "error": "shutting down"]
        }
        try control.start()
        self.control = control
        lifecycle.started("control socket") { [weak self] in self?.control?.stop() }
        // Like the room clients: on our own server over loopback, the certificate names the public host.
        home = Home(host: host, server: signalingURL, key: options.key, peerID: homeID,
                    allowSelfSigned: options.signaling == nil,
                    token: options.signaling == nil ? ownTokenPrefix + PeerJSClient.randomToken() : PeerJSClient.randomToken())
        startHome()
        lifecycle.started("signaling") { [weak self] done in self?.stopSignaling(then: done) ?? done() }
        lifecycle.started("calls") { [weak self] done in self?.endCalls(then: done) ?? done() }
        homeDataOffer = { [weak self] link in self?.takePairingOffer(link) ?? false }
        notifier?.onPushGone = { [weak self] subscription in self?.pairedPushGone(subscription) }
        display?.show(.idle(doorName: options.doorName))
        Log.info("intercom", "ready: signaling \(signalingURL), control socket \(options.controlPath)")
    }

    // MARK: - Events into the state machine

    func handle(_ event: CallStateMachine.Event) {
        // While stopping nothing new starts (the calls' stop waits for the sessions to be gone); ends still count.
        if lifecycle.state == .stopping, event.startsSomething { return }
        eventStartedMicros = monotonicMicros()
        let before = machine.phase.name
        let actions = machine.handle(event, now: DoorClock.system.monotonicMillis())
        actions.forEach(perform)
        if machine.phase.name != before { publishPhase() }
    }

    private func publishPhase() {
        var event: [String: JSONValue] = ["event": "phase", "phase": .string(machine.phase.name)]
        if let pending = machine.phase.pending {
            event["peer"] = .string(pending.call.peer)
            event["connectionId"] = .string(pending.call.connectionId)
        }
        control?.publish(.object(event))
    }

    /// The last caller's peer ID and what the screen calls them.
    var latestCaller: (peer: String, label: String)?

    /// When the event being handled arrived, to report how long its screen took to reach the sink.
    private var eventStartedMicros: Int64 = 0

    private func perform(_ action: CallStateMachine.Action) {
        switch action {
        case .openRoom(let code, let link):
            openRoom(code: code, link: link)
        case .closeRoom(let code):
            pairedRoomClosed()
            Log.info("intercom", "room \(code) closed")
            retire(room?.client)
            notifier?.cancelAll()
            retire(room?.knockClient)
            // The secret goes with the room: the link, the keys and the nonces.
            room = nil
            calls.roomClosed()
            dropHeldData(peer: nil, "the room closed")
            closeChats(peer: nil)
            limits.reset()
            media.coolDown()
            control?.publish(["event": "room-closed", "code": .string(code)])
        case .ringAgain(let code, _):
            Log.info("intercom", "room \(code) rang again")
            control?.publish(["event": "room-rang", "code": .string(code)])
        case .answer(let call):
            pairedRoomAnswered(by: call)
            answer(call)
        case .dial(let call, let metadata):
            dial(call, metadata: metadata)
        case .refuse(let call, let refusal):
            refuse(call, refusal)
        case .ignore(let call, let reason):
            Log.info("intercom", "not answering \(call): \(reason)")
            limits.release(peer: call.peer, connectionId: call.connectionId)
            calls.amend(call) { $0.offer = nil; $0.candidates = [] }
            dropHeldData(peer: call.peer, reason)
        case .hangUp(let call):
            guard let record = calls[call], let session = record.session else { return }
            // A placed call nobody answered yet is cancelled instead (dialEnded says so).
            guard record.dial?.isAnswered ?? true else { return session.hangUp() }
            sayHangUp(call, session: session)
        case .setMuted(let muted):
            if case .inCall(_, let active) = machine.phase { calls.session(active.call)?.setMicrophoneMuted(muted) }
            Log.info("intercom", muted ? "microphone muted" : "microphone on")
            control?.publish(["event": "muted", "muted": .bool(muted)])
            sendToCaller(.status(muted: muted))
        case .startTimer(let kind, let at):
            let delay = DoorClock.system.delay(until: at)
            timers[kind] = GLibTimer(milliseconds: delay) { [weak self] in
                self?.timers[kind] = nil
                self?.handle(.timer(kind))
            }
        case .cancelTimer(let kind):
            timers.removeValue(forKey: kind)?.cancel()
        case .openPairing(let link):
            pairingOpened(link)
        case .closePairing:
            pairingClosed()
        case .show(let core):
            let screen = core.labelingCallers { [latestCaller] peer in
                peer == latestCaller?.peer ? latestCaller!.label : CallerName.fallback
            }
            guard let display, display.current != screen else { return }
            display.show(screen)
            guard display.current == screen else { return }
            let millis = Double(monotonicMicros() - eventStartedMicros) / 1000
            if case .room = screen, display.current == screen {
                Log.debug("display", "room on screen \(millis) ms after the event")
            }
            var event: [String: JSONValue] = ["event": "screen", "screen": .string(Self.screenName(screen)),
                                              "millis": .number(millis)]
            // What the ended screen says (why the call ended), for whoever watches the events.
            if case .ended(let reason) = screen { event["reason"] = .string(reason) }
            control?.publish(.object(event))
        }
    }

    /// The caller never got an answer, so it holds no media of ours; PeerJS `LEAVE` closes its pending call
    /// (a PeerJS browser closes every connection with the sender), and `payload.reason` says why.
    private func refuse(_ call: CallID, _ refusal: CallStateMachine.Refusal) {
        Log.info("intercom", "refusing \(call): \(refusal.rawValue)")
        limits.release(peer: call.peer, connectionId: call.connectionId)
        // Its data connections go with it (the LEAVE below closes them in a PeerJS browser).
        dropHeldData(peer: call.peer, "its call was refused (\(refusal.rawValue))")
        signaling(for: call)?.send(.leave(to: call.peer, LeavePayload(reason: refusal.rawValue,
                                                                      connectionId: call.connectionId)))
        calls.amend(call) { $0.offer = nil; $0.candidates = [] }
        control?.publish(["event": "refused", "peer": .string(call.peer), "reason": .string(refusal.rawValue)])
    }

    /// PeerJS has no hang-up message: a PeerJS 1.5 browser hears ours when the call's data channel closes. That
    /// channel may not be open yet (SCTP comes up after ICE and DTLS; under load that took over a second), and a
    /// PeerJS 1.4 caller has none. So an answered call's end also goes over signaling: a LEAVE for this
    /// connection with reason "hangup", which the web page takes as the door's hang-up and a stock PeerJS
    /// browser answers by closing its connections with us.
    ///
    /// A 1.4 browser hears nothing else: it closes a call only on that LEAVE or when ICE fails. Its LEAVE handler
    /// closes the peer's connections while removing each from the list it walks, so with a data connection
    /// listed first (connect, then call) it skips the call. So the caller's data links close first (1.4 drops a
    /// connection from that list when its channel closes), and the LEAVE follows once that close had time to
    /// arrive. It goes even when the channel is open: a 1.4 page the door called took the door's channel at the
    /// SCTP level but threw in JavaScript, so the open channel says nothing to it.
    ///
    /// Stopping the call's pipeline holds the loop for a while (up to a second under load), so in that case
    /// the session hangs up only after the LEAVE is out.
    private func sayHangUp(_ call: CallID, session: CallSession) {
        let inBand = session.hangUpHeardInBand
        let chatsFirst = !inBand && chats.keys.contains { $0.peer == call.peer }
        // The room's registration may stop before the LEAVE goes: hold on to it (`retire` waits).
        let client = signaling(for: call)
        let leave: @GLibActor () -> Void = {
            client?.send(.leave(to: call.peer, .hangUp(connectionId: call.connectionId)))
        }
        Log.debug("intercom", "saying the hang-up to \(call.peer) over signaling (channel \(inBand ? "open" : "not open"))")
        guard chatsFirst else {
            leave()
            return session.hangUp()
        }
        closeChats(peer: call.peer)
        let timer = GLibTimer(milliseconds: Self.leaveAfterChatsCloseMillis) { [weak self, weak session] in
            leave()
            session?.hangUp()
            guard let self else { return }
            self.calls.amend(call) { $0.hangUpLeave = nil }
            guard !self.calls.sayingHangUps else { return }
            for retired in self.retiring { retired.stop() }
            self.retiring = []
        }
        calls.amend(call) { $0.hangUpLeave = timer }
    }

    /// A closed room's registration stops at once, unless a hang-up LEAVE still has to go out through it.
    private func retire(_ client: PeerJSClient?) {
        guard let client else { return }
        if calls.sayingHangUps { retiring.append(client) } else { client.stop() }
    }

    /// How long the hang-up LEAVE waits for the caller's data channels' close to reach it.
    static let leaveAfterChatsCloseMillis: UInt32 = 250

    /// The registration a call came through.
    func signaling(for call: CallID) -> PeerJSClient? {
        guard let record = calls[call] else { return room?.client }
        if record.dial != nil { return home?.client }
        return room?.client(for: record.door ?? .room)
    }

    /// Registers the room's secret-derived peer ID (callers with the link) and its knock peer ID (callers who
    /// typed the code). `link` prints redacted; only the screen, `ctl link` and a terminal get the whole link.
    private func openRoom(code: String, link: RoomLink) {
        let gate = RoomGate(link: link, prefix: options.roomPrefix)
        room = OpenRoom(link: link, gate: gate)
        func register(_ peerID: String, _ door: RoomGate.Door) -> PeerJSClient {
            var clientOptions = PeerJSClient.Options(server: signalingURL, id: peerID)
            clientOptions.key = options.key
            clientOptions.allowSelfSigned = signalingIsOwnServer
            clientOptions.token = ownClientToken()
            let client = PeerJSClient(host: host, options: clientOptions)
            client.onMessage = { [weak self] message in self?.admit(message, door: door) }
            var notified = false
            client.onOpen = { [weak self] in
                self?.control?.publish(["event": "room-reachable", "code": .string(code), "door": .string(door.rawValue),
                                        "peerId": .string(peerID)])
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
                media.warmUp()
                grabRingPicture(picture)
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
        control?.publish(["event": "room-opened", "code": .string(code), "link": .string(link.redacted)])
    }

    // MARK: - Signaling routing: strictly by (peer, connectionId)

    /// Applies `SignalingLimits` before anything is parsed further. Refusals are logged at most once a second.
    private func admit(_ message: PeerJSMessage, door: RoomGate.Door) {
        let now = monotonicMillis()
        switch limits.admit(message, now: now) {
        case .accept:
            route(message, door: door)
        case .drop(let reason):
            limitDrops.count += 1
            guard now - limitDrops.lastLogged >= 1000 else { return }
            Log.warning("intercom", "dropped \(message.type.rawValue) from \(message.src ?? "?"): \(reason)"
                        + (limitDrops.count > 1 ? " (\(limitDrops.count) dropped since the last line)" : ""))
            limitDrops = (0, now)
        }
    }

    private func route(_ message: PeerJSMessage, door: RoomGate.Door) {
        guard let src = message.src else { return }
        switch message.type {
        case .offer:
            let payload: ConnectionPayload
            do { payload = try ConnectionPayload(message.payload) } catch {
                return Log.debug("intercom", "dropped an OFFER from \(src): \(error)")
            }
            guard payload.type == .media else { return acceptData(payload, from: src, door: door) }
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
            handle(.offer(call, proved: verdict == .proved))
        case .candidate:
            let payload: CandidatePayload
            do { payload = try CandidatePayload(message.payload) } catch {
                return Log.debug("intercom", "dropped a CANDIDATE from \(src): \(error)")
            }
            let call = CallID(peer: src, connectionId: payload.connectionId)
            if let session = calls.session(call) {
                session.addRemoteCandidate(mline: payload.sdpMLineIndex, candidate: payload.candidate)
            } else if addDataCandidate(call, payload) {
            } else if holdDataCandidate(call, payload) {
            } else if calls[call]?.offer != nil, bufferCandidate(payload, for: call) {
            } else {
                Log.debug("intercom", "dropped a CANDIDATE for unknown \(call)")
            }
        case .leave:
            if let connectionId = message.leave?.hungUpConnectionId {
                // One call's hang-up, said over signaling: that call only.
                let call = CallID(peer: src, connectionId: connectionId)
                if let session = calls.session(call) { session.peerHungUp("said so over signaling (LEAVE)") }
                else if machine.phase.pending?.call == call { handle(.callEnded(call, .remote)) }
                return
            }
            for (_, session) in calls.sessions where session.peer == src {
                Log.info("intercom", "\(src) left")
                session.hangUp()
            }
            if let pending = machine.phase.pending, pending.call.peer == src { handle(.callEnded(pending.call, .remote)) }
        case .expire:
            Log.info("intercom", "peer \(src) is not reachable (EXPIRE)")
        default:
            Log.debug("intercom", "dropped \(message.type.rawValue) from \(src)")
        }
    }

    /// Whether `peer` has a call waiting to be let in (a knock or an incoming call).
    func hasPendingCall(from peer: String) -> Bool { calls.records.values.contains { $0.call.peer == peer && $0.offer != nil } }

    /// Buffers a candidate for a call whose session does not exist yet; false when its buffer is full.
    private func bufferCandidate(_ candidate: CandidatePayload, for call: CallID) -> Bool {
        var kept = false
        calls.amend(call) { kept = $0.buffer(candidate) }
        return kept
    }

    /// Whether a call OFFER could still come and be taken: a room is open and no call is running.
    var mayTakeACall: Bool { room != nil && !calls.sessions.contains { !$0.session.isEnded } }

    private func answer(_ call: CallID) {
        guard let offer = calls[call]?.offer else { return }
        let session: CallSession
        do {
            session = try CallSession(peer: call.peer, connectionId: call.connectionId, offerSDP: offer.sdp.sdp,
                                      engine: media)
        } catch {
            Log.warning("intercom", "cannot answer \(call): \(error)")
            calls.amend(call) { $0.offer = nil; $0.candidates = [] }
            return handle(.callEnded(call, .failed))
        }
        var buffered: [CandidatePayload] = []
        calls.amend(call) { record in
            record.offer = nil
            record.session = session
            buffered = record.candidates
            record.candidates = []
        }
        callSessionsCreated += 1
        let offerSDP = offer.sdp.sdp
        session.onAnswer = { [weak self] sdp in
            guard let self else { return }
            var payload = ConnectionPayload(sdp: SessionDescription(type: "answer", sdp: sdp), type: .media,
                                            connectionId: call.connectionId).json
            // A proved caller checks this MAC before it uses the answer: it reached the real door.
            if let proof = room?.gate.answerProof(call: call, offerSDP: offerSDP, answerSDP: sdp),
               case .object(var fields) = payload {
                fields["proof"] = proof
                payload = .object(fields)
            }
            signaling(for: call)?.send(PeerJSMessage(type: .answer, dst: call.peer, payload: payload))
        }
        session.onLocalCandidate = { [weak self] mline, candidate in
            let payload = LocalCandidate.payload(candidate, mline: mline, offerSDP: offerSDP, type: .media,
                                                 connectionId: call.connectionId)
            self?.signaling(for: call)?.send(PeerJSMessage(type: .candidate, dst: call.peer, payload: payload.json))
        }
        attachCall(session, call, remoteSDP: { offerSDP })
        do { try session.start() } catch {
            Log.warning("intercom", "cannot answer \(call): \(error)")
            calls.amend(call) { $0.session = nil }
            return handle(.callEnded(call, .failed))
        }
        for candidate in buffered {
            session.addRemoteCandidate(mline: candidate.sdpMLineIndex, candidate: candidate.candidate)
        }
        takeHeldData(peer: call.peer)
        control?.publish(["event": "call-started", "peer": .string(call.peer), "connectionId": .string(call.connectionId)])
    }

    /// What every call's session reports, answered or placed: `remoteSDP` is the peer's description (its offer,
    /// or its answer to ours), whose `a=fingerprint` the DTLS certificate must match.
    func attachCall(_ session: CallSession, _ call: CallID, remoteSDP: @escaping @GLibActor () -> String?) {
        session.onRemoteCertificate = { [weak self] pem in
            // The signaling path (and for proved callers, the MAC) vouched for the peer's a=fingerprint; the
            // certificate DTLS really used must be that one, or someone sits in the middle.
            guard let self else { return }
            let verified = remoteSDP().map { DTLSFingerprint.matches(certificatePEM: pem, sdp: $0) } ?? false
            self.calls.amend(call) { $0.dtlsVerified = verified }
            self.control?.publish(["event": "dtls", "verified": .bool(verified)])
            if !verified {
                Log.warning("intercom", "hanging up \(call): its DTLS certificate does not match the fingerprint its SDP promised")
                self.handle(.hangUpRequested)
            }
        }
        session.onRemoteVideo = { [weak self] picture in self?.display?.showVideo(picture) }
        session.onSelfView = { [weak self] picture in self?.display?.showSelfView(picture) }
        session.onClockStamp = { [weak self] millis in
            self?.control?.publish(["event": "clock-stamp", "millis": .number(Double(millis))])
        }
        session.onConnected = { [weak self] in
            self?.control?.publish(["event": "call-connected", "peer": .string(call.peer)])
            self?.handle(.callConnected(call))
        }
        // Weak: a session holding a closure that holds the session would never be freed (a leak per call).
        session.onEnded = { [weak self, weak session] reason, detail in
            guard let self, let session else { return }
            callEnded(call, session: session, reason: reason, detail: detail)
        }
    }

    /// `detail`: why, when the session knows (a failed call: which candidate types it had), for `ctl state`'s
    /// `lastCall.reason` and the `call-ended` event.
    private func callEnded(_ call: CallID, session: CallSession, reason: CallSession.EndReason, detail: String?) {
        let now = wallClockMillis()
        let counts = session.counters.snapshot
        let endedBy: CallStateMachine.EndedBy = switch reason {
        case .remoteHangUp: .remote
        case .localHangUp: .local
        case .failed: .failed
        case .lost: .lost
        }
        var summary: [String: JSONValue] = [
            "peer": .string(call.peer), "connectionId": .string(call.connectionId),
            "endedBy": .string(endedBy.rawValue), "endedAt": .number(Double(now)),
            "videoFramesDecoded": .number(Double(counts.videoFramesDecoded)),
            "audioBuffersDecoded": .number(Double(counts.audioBuffersDecoded))]
        // Lost: how long the peer had been silent when the door gave up on it (the detection time).
        if let silence = session.lostAfterSilenceMillis { summary["lostAfterSilenceMillis"] = .number(Double(silence)) }
        if let detail { summary["reason"] = .string(detail) }
        lastCall = .object(summary)
        calls.amend(call) { record in
            record.session = nil
            record.dtlsVerified = nil
        }
        closeChats(peer: call.peer)
        limits.release(peer: call.peer, connectionId: call.connectionId)
        cameraOff = false
        var event: [String: JSONValue] = ["event": "call-ended", "by": .string(endedBy.rawValue), "at": .number(Double(now))]
        if let detail { event["reason"] = .string(detail) }
        control?.publish(.object(event))
        handle(.callEnded(call, endedBy))
        MemoryPolicy.returnFreedMemorySoon()
    }

    static func screenName(_ screen: Screen) -> String {
        switch screen {
        case .idle: "idle"
        case .room: "room"
        case .knock: "knock"
        case .incomingCall: "incoming-call"
        case .calling: "calling"
        case .inCall: "in-call"
        case .ended: "ended"
        case .error: "error"
        case .pairing: "pairing"
        case .paired: "paired"
        }
    }

    // MARK: - Control socket

    private func handleControl(_ json: JSONValue) -> JSONValue {
        guard let typed = ControlRequest(json) else { return ControlRequest.unknown(json) }
        let request = typed.json
        switch typed.command {
        case .press:
            // The same checks and path as every simulated press: a field of the wrong type is an error.
            return simulated.handle(pressRequest: request)
        case .state:
            return ["ok": true, "state": stateJSON()]
        case .link:
            // The whole join link, secret included: for whoever may press the door's buttons anyway (mode 0660).
            guard let link = room?.link else { return ["ok": false, "error": "no room is open"] }
            return ["ok": true, "link": .string(link.url)]
        case .hangup:
            handle(.hangUpRequested)
            return ["ok": true]
        case .keyframe:
            guard let session = activeSession else { return ["ok": false, "error": "no call is running"] }
            session.requestKeyframe()
            return ["ok": true]
        case .camera:
            guard let off = request["off"]?.boolValue else { return ["ok": false, "error": "camera needs off: true|false"] }
            guard let session = activeSession else { return ["ok": false, "error": "no call is running"] }
            session.setCameraOff(off)
            cameraOff = off
            control?.publish(["event": "camera", "off": .bool(off)])
            return ["ok": true]
        case .chat:
            return chatControl(request)
        case .connect:
            return connectControl(request)
        case .call:
            return callControl(request)
        case .disconnect:
            return disconnectControl(request)
        case .pair, .pairings, .unpair:
            return pairingControl(typed.command, request)
        case .pushKey, .pushSubscribe, .pushSubscriptions, .pushUnsubscribe:
            return notifyControl(typed.command, request, notifier: notifier)
        case .events:
            // The server answers `events` itself (the connection becomes an event stream).
            return ["ok": false, "error": "events is answered by the control server"]
        }
    }

    /// The running call's media, if a call is running.
    var activeSession: CallSession? {
        guard case .inCall(_, let active) = machine.phase else { return nil }
        return calls.session(active.call)
    }

    /// Whether the device's camera is switched off for the running call (a valve; the peer sees no picture).
    private var cameraOff = false

    private func stateJSON() -> JSONValue {
        var state: [String: JSONValue] = ["lastCall": lastCall, "phase": .string(machine.phase.name)]
        if let phaseRoom = machine.phase.room {
            state["room"] = ["code": .string(phaseRoom.code), "link": .string(room?.link.redacted ?? ""),
                             "peerId": .string(room?.gate.roomPeerID ?? ""),
                             "knockPeerId": .string(room?.gate.knockPeerID ?? "")]
        } else {
            state["room"] = .null
        }
        if let pending = machine.phase.pending {
            state["pending"] = ["peer": .string(pending.call.peer), "connectionId": .string(pending.call.connectionId),
                                "proved": .bool(pending.proved)]
        } else {
            state["pending"] = .null
        }
        if case .inCall(_, let active) = machine.phase, let record = calls[active.call], let session = record.session {
            let counts = session.counters.snapshot
            state["call"] = ["peer": .string(active.call.peer), "connectionId": .string(active.call.connectionId),
                             "connected": .bool(active.connectDeadline == nil), "muted": .bool(active.muted),
                             "videoFramesDecoded": .number(Double(counts.videoFramesDecoded)),
                             "audioBuffersDecoded": .number(Double(counts.audioBuffersDecoded)),
                             "videoWidth": .number(Double(counts.videoWidth)),
                             "videoHeight": .number(Double(counts.videoHeight)),
                             "keyframesSent": .number(Double(counts.keyframesSent)),
                             "keyframeRequests": .number(Double(counts.keyframeRequests)),
                             "keyframesForced": .number(Double(counts.keyframesForced)),
                             "videoBitrateKbps": .number(Double(counts.videoBitrateKbps)),
                             "cameraOff": .bool(cameraOff),
                             "dtlsVerified": record.dtlsVerified.map(JSONValue.bool) ?? .null]
        } else {
            state["call"] = .null
        }
        state["snapshot"] = snapshotSink.map { .string($0.latestPath) } ?? .null
        var offers: [String: JSONValue] = [:]
        for (reason, count) in room?.gate.counts ?? [:] { offers[reason] = .number(Double(count)) }
        state["admission"] = ["callSessionsCreated": .number(Double(callSessionsCreated)), "offers": .object(offers),
                              "dataOffersRefused": .number(Double(dataOffersRefused))]
        addHomeState(to: &state)
        addPairingState(to: &state)
        return .object(state)
    }

    // MARK: - Shutdown

    private func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM] {
            let box = Unmanaged.passRetained(ShutdownBox(device: self)).toOpaque()
            signalSources.append(g_unix_signal_add_full(G_PRIORITY_DEFAULT, signalNumber, deviceShutdownSignal, box,
                                                        releaseShutdownBox))
        }
    }

    fileprivate func shutdown() {
        guard lifecycle.state == .running else { return }
        Log.info("intercom", "shutting down")
        lifecycle.onStopping = { Log.info("intercom", "stopping \($0)") }
        lifecycle.stop { [onExit] in
            Log.info("intercom", "stopped")
            onExit()
        }
    }

    /// The first stop: no timer or press starts anything new; every call hangs up the way a DECLINE does
    /// (the peer hears it in-band and over signaling) and its pipeline is stopped off the loop. Over once
    /// the calls are gone and their pipelines stopped, or after `endCallsLimitMillis` in any case.
    private func endCalls(then done: @escaping @GLibActor () -> Void) {
        ticker = nil
        timers.values.forEach { $0.cancel() }
        timers = [:]
        for (call, session) in calls.sessions { sayHangUp(call, session: session) }
        closeChats(peer: nil)
        media.coolDown()  // an open room's warm pipeline: the camera goes off with the calls
        let deadline = monotonicMillis() + Self.endCallsLimitMillis
        func over() -> Bool { calls.sessions.isEmpty && !calls.sayingHangUps && PipelineReaper.shared.inFlight == 0 }
        guard !over() else { return done() }
        shutdownWait = GLibTimer(milliseconds: 20, repeating: true) { [weak self] in
            guard let self else { return done() }
            guard over() || monotonicMillis() >= deadline else { return }
            if !over() {
                Log.warning("intercom", "\(calls.sessions.count) call(s) still ending after \(Self.endCallsLimitMillis) ms; stopping anyway")
            }
            shutdownWait = nil
            done()
        }
    }

    /// Within the 2 s systemd and a person at the door expect; a hang-up normally takes a few hundred ms.
    static let endCallsLimitMillis: Int64 = 1_200

    /// The door's registrations close (their last frames, the hang-up LEAVEs, are written first), then a
    /// short pause lets the loop write them before the web server goes.
    private func stopSignaling(then done: @escaping @GLibActor () -> Void) {
        room?.client?.stop()
        room?.knockClient?.stop()
        retiring.forEach { $0.stop() }
        retiring = []
        home?.stop()
        shutdownWait = GLibTimer(milliseconds: 100) { [weak self] in
            self?.shutdownWait = nil
            done()
        }
    }

    private func stopButtons() {
        simulated.stop()
        terminal.stop()
        gpio?.stop()
    }

    private var shutdownWait: GLibTimer?
}

final class ShutdownBox: @unchecked Sendable {
    // Read only on the GLib thread, where GLib dispatches the signal source.
    weak var device: Device?
    init(device: Device) { self.device = device }
}

/// A free function, not a closure in the actor-isolated method that installs it: GLib may call it from
/// whatever thread removes the source (docs/architecture.md#one-process-one-loop).
private func releaseShutdownBox(_ data: gpointer?) {
    if let data { Unmanaged<ShutdownBox>.fromOpaque(data).release() }
}

private func deviceShutdownSignal(_ data: gpointer?) -> gboolean {
    guard let data else { return 0 }
    let box = Unmanaged<ShutdownBox>.fromOpaque(data).takeUnretainedValue()
    GLibActor.assumeIsolated { box.device?.shutdown() }
    return 0
}

extension CallStateMachine.Event {
    /// A press, an offer, a dial or a pairing: what would open a room or start a call.
    fileprivate var startsSomething: Bool {
        switch self {
        case .press, .offer, .dial, .dialAnswered, .pairRequested, .pairedBrowser: true
        case .callConnected, .callEnded, .timer, .tick, .hangUpRequested, .roomCodeTaken: false
        }
    }
}

