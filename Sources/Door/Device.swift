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
    /// The web server, the PeerServer on it and the URL the door's own clients register at.
    let endpoint: SignalingEndpoint
    /// The media engine (`MediaEngine`), behind `MediaSessions` so tests can hand out fake calls.
    let media: any MediaSessions
    /// The screen and, without one, the snapshots written instead.
    let output: DisplayOutput
    /// The buttons and the control socket: what a person at the door or on the box commands it with.
    let inputs = DoorInputs()
    /// The open room, closed rooms' registrations still saying their LEAVEs, and the signaling limits.
    var rooms = RoomState()
    /// The notifier (`Notifier`), behind `RingNotifier` so tests can record the rings instead of sending them.
    private(set) var notifier: (any RingNotifier)?
    /// What every data link is made with: the media seam's data sessions and this door's keepalive policy.
    var dataLinks: DataLinkParts
    /// Paired browsers and the visit log, kept in the state directory (DeviceParts.swift).
    var kept = StateKept()
    /// One record per media call, answered or placed: its door, offer, session, DTLS verdict, dial.
    let calls = CallTable()
    /// The callers' data connections (chat) and the data OFFERs held while their call waits: Device+Chat.swift.
    var chatState = ChatState()
    /// The door's permanent registration, the home ID, and what goes through it: Device+Dial.swift.
    var home: Home?
    /// What the door reports about calls: counts for the security tests, the last call, the caller's name.
    var report = CallReport()
    /// The loop sources the device owns (the tick, the machine's timers, shutdown waits, signal sources).
    var running: Running

    public convenience init(options: DeviceOptions, onExit: @escaping @Sendable () -> Void) throws {
        try self.init(options: options, seams: .real, onExit: onExit)
    }

    init(options: DeviceOptions, seams: DeviceSeams, onExit: @escaping @Sendable () -> Void) throws {
        self.options = options
        running = Running(lifecycle: Lifecycle(), onExit: onExit)
        // Tokens of the door's own clients on its built-in server start with this (random per start): the
        // server does not count them against per-address or concurrent-ID limits meant for strangers.
        let ownTokenPrefix = "door" + PeerJSClient.randomToken(length: 22)
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
        settings.maxPhones = settings.canPair ? options.configuration.visits.maxPhones : 1
        if options.deviceID != nil { kept.paired = PairedBrowsers(stateDirectory: options.stateDirectory) }
        if options.deviceID != nil { kept.visits = VisitKeeper(stateDirectory: options.stateDirectory, settings: options.configuration.visits) }
        let roomICE = options.configuration.ice
        machine = CallStateMachine(settings: settings, makeRoomTURN: { lifetimeMillis in
            TURNCredential.room(roomICE, now: PageConfiguration.now(), roomLifetimeSeconds: Int(lifetimeMillis / 1000))
        })

        do {
            let opened = try DisplayBackend.open(options.display)
            output = DisplayOutput(display: opened.display, snapshots: opened.snapshots)
            Log.info("display", opened.description)
            running.lifecycle.started("display") { opened.display.stop() }
        } catch {
            Log.error("display", "screen unavailable: \(error)")
            output = DisplayOutput(display: nil, snapshots: nil)
        }
        var mediaSettings = options.media
        mediaSettings.remoteVideoWidth = output.display.map { min($0.width, 1280) } ?? 0
        mediaSettings.selfViewWidth = output.display.map { $0.width / 4 } ?? 0
        mediaSettings.remoteVideoFramesPerSecond = max(1, options.display.videoFramesPerSecond)
        let visitSettings = options.configuration.visits
        mediaSettings.clipTee = visitSettings.enabled && visitSettings.clipSeconds > 0 && options.deviceID != nil
        mediaSettings.clipAudioTee = mediaSettings.clipTee && visitSettings.recordCalls
        mediaSettings.visitTees = settings.maxPhones > 1
        media = try seams.media(mediaSettings)
        dataLinks = DataLinkParts(media: media)
        let ice = options.configuration.ice
        WebRTCICE.servers = { TURNCredential.servers(ice, name: "door", now: PageConfiguration.now()) }
        WebRTCICE.connectTimeoutMillis = ice.connectTimeoutSeconds * 1000
        if !ice.isEmpty {
            Log.info("media", "ICE servers: " + (ice.stunServers + ice.turnServers.map(\.url)).joined(separator: ", "))
        }
        let host = try WebSocketHost(listen: options.listen, tls: options.tls)
        let peerServer: PeerServer?
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
        let signalingURL: WebSocketURL
        if let text = options.signaling {
            signalingURL = try WebSocketURL(parsing: text)
        } else {
            // Our own server over loopback: with TLS on, its certificate names the public host, not 127.0.0.1.
            signalingURL = WebSocketURL(secure: host.listensSecurely, host: "127.0.0.1", port: options.listen!.port, path: "/")
        }
        endpoint = SignalingEndpoint(host: host, peerServer: peerServer, url: signalingURL, ownTokenPrefix: ownTokenPrefix,
                                     connect: seams.signaling)


        lifecycle.started("web server") { [host] in host.shutDown() }
        notifier = try seams.notifier(options.configuration)
        lifecycle.started("notifier") { [weak self] in self?.notifier?.cancelAll() }
        lifecycle.started("state files") { [weak self] done in self?.finishStateFiles(then: done) ?? done() }
        notifier?.onDelivered = { [weak self] delivery in
            self?.control?.publish(.notified(target: delivery.target, origin: delivery.origin, attempts: delivery.attempts))
        }

        inputs.simulated.start { [weak self] press in self?.handle(.press(press)) }
        try inputs.terminal.start { [weak self] press in self?.handle(.press(press)) }
        if let configuration = options.gpio {
            let buttons = GPIOButtons(configuration)
            try buttons.start { [weak self] press in self?.handle(.press(press)) }
            inputs.gpio = buttons
        }
        lifecycle.started("buttons") { [inputs] in inputs.stopButtons() }
        ticker = GLibTimer(milliseconds: 1000, repeating: true) { [weak self] in self?.handle(.tick) }
        installSignalHandlers()
        let control = ControlServer(path: options.controlPath, replyingLater: { [weak self] request, reply in
            guard let self else { return reply(["ok": false, "error": "shutting down"]) }
            handleControl(request, reply: reply)
        })
        try control.start()
        self.control = control
        lifecycle.started("control socket") { [weak self] in self?.control?.stop() }
        // Like the room clients: on our own server over loopback, the certificate names the public host.
        startLinkKeepalive()
        home = Home(host: host, server: signalingURL, key: options.key, peerID: homeID, parts: dataLinks,
                    connect: endpoint.connect,
                    allowSelfSigned: options.signaling == nil,
                    token: options.signaling == nil ? ownTokenPrefix + PeerJSClient.randomToken() : PeerJSClient.randomToken())
        startHome()
        lifecycle.started("signaling") { [weak self] done in self?.stopSignaling(then: done) ?? done() }
        lifecycle.started("calls") { [weak self] done in self?.endCalls(then: done) ?? done() }
        visits?.onEvent = { [weak self] event in self?.control?.publish(event) }
        lifecycle.started("visits") { [weak self] in self?.visits?.stop() }
        homeDataOffer = { [weak self] link in
            guard let self else { return false }
            return takePairingOffer(link) || takeVisitsOffer(link) || takeRingPictureOffer(link)
        }
        notifier?.onPushGone = { [weak self] subscription in self?.pairedPushGone(subscription) }
        display?.show(.idle(doorName: options.doorName))
        Log.info("intercom", "ready: signaling \(signalingURL), control socket \(options.controlPath)")
    }

    // MARK: - Events into the state machine

    func handle(_ event: CallStateMachine.Event) {
        // While stopping nothing new starts (the calls' stop waits for the sessions to be gone); ends still count.
        if lifecycle.state == .stopping, event.startsSomething { return }
        report.eventStartedMicros = monotonicMicros()
        let before = machine.phase.name
        let actions = machine.handle(event, now: DoorClock.system.monotonicMillis())
        actions.forEach(perform)
        if machine.phase.name != before { publishPhase() }
    }

    func publishPhase() {
        let pending = machine.phase.pending?.call
        control?.publish(.phase(machine.phase.name, peer: pending?.peer, connectionId: pending?.connectionId))
    }

    func perform(_ action: CallStateMachine.Action) {
        switch action {
        case .openRoom(let code, let link):
            visits?.rang()
            openRoom(code: code, link: link)
        case .closeRoom(let code):
            visits?.roomClosed()
            pairedRoomClosed()
            Log.info("intercom", "room \(code) closed")
            retire(room?.client)
            notifier?.cancelAll()
            retire(room?.knockClient)
            // The secret goes with the room: the link, the keys and the nonces.
            room = nil
            calls.roomClosed()
            rooms.router.forget(peer: nil)
            dropHeldData(peer: nil, "the room closed")
            closeChats(peer: nil)
            limits.reset()
            media.coolDown()
            control?.publish(.roomClosed(code: code))
        case .ringAgain(let code, _):
            Log.info("intercom", "room \(code) rang again")
            control?.publish(.roomRang(code: code))
        case .answer(let call):
            visits?.answered(by: visitAnswerer(for: call))
            pairedRoomAnswered(by: call)
            answer(call)
        case .join(let call):
            joinVisit(call)
        case .left(let call):
            leftVisit(call)
        case .dial(let call, let metadata):
            dial(call, metadata: metadata)
        case .refuse(let call, let refusal):
            if refusal == .declined { visits?.declined() }
            refuse(call, refusal)
        case .ignore(let call, let reason):
            Log.info("intercom", "not answering \(call): \(reason)")
            limits.release(peer: call.peer, connectionId: call.connectionId)
            calls.amend(call) { $0.offer = nil }
            rooms.router.forget(call)
            dropHeldData(peer: call.peer, reason)
        case .hangUp(let call):
            guard let record = calls[call], let session = record.session else { return }
            // A placed call nobody answered yet is cancelled instead (dialEnded says so).
            guard record.dial?.isAnswered ?? true else { return session.hangUp() }
            sayHangUp(call, session: session)
        case .setMuted(let muted):
            if case .inCall(_, let active) = machine.phase { calls.session(active.call)?.setMicrophoneMuted(muted) }
            Log.info("intercom", muted ? "microphone muted" : "microphone on")
            control?.publish(.muted(muted))
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
            let screen = core.labelingCallers { [latestCaller, household = paired?.household] peer in
                household?.name(of: peer) ?? (peer == latestCaller?.peer ? latestCaller!.label : CallerName.fallback)
            }
            guard let display, display.current != screen else { return }
            display.show(screen)
            guard display.current == screen else { return }
            let millis = Double(monotonicMicros() - report.eventStartedMicros) / 1000
            if case .room = screen, display.current == screen {
                Log.debug("display", "room on screen \(millis) ms after the event")
            }
            // What the ended screen says (why the call ended), for whoever watches the events.
            var reason: String?
            if case .ended(let why) = screen { reason = why }
            control?.publish(.screen(Self.screenName(screen), millis: millis, reason: reason))
        }
    }

    static func screenName(_ screen: Screen) -> String {
        switch screen {
        case .idle: "idle"
        case .room: "room"
        case .knock: "knock"
        case .incomingCall: "incoming-call"
        case .calling: "calling"
        case .inCall: "in-call"
        case .visit: "visit"
        case .ended: "ended"
        case .error: "error"
        case .pairing: "pairing"
        case .paired: "paired"
        }
    }
}
