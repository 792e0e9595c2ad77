import DoorCore
import MainLoop
import Media
import Signaling

/// What the door initiates through its home ID (docs/signaling.md#the-home-id): data connections to any peer
/// (`openDataLink`, `ctl connect`), media calls (`ctl call`: the state machine's `dialing` phase), and the hook
/// for data OFFERs that arrive at the home ID.
extension Device {
    /// Set by the pairing code: decides each data OFFER to the home ID (see `Home.dataOfferHandler`).
    /// Without one, or when it returns false, the OFFER is refused and counted in `dataOffersRefused`.
    var homeDataOffer: (@GLibActor (DataLink) -> Bool)? {
        get { home?.dataOfferHandler }
        set { home?.dataOfferHandler = newValue }
    }

    func startHome() {
        guard let home else { return }
        home.onDataOfferRefused = { [weak self] _ in self?.dataOffersRefused += 1 }
        home.onMessage = { [weak self] message in self?.routeHome(message) }
        home.onOpen = { [weak self, peerID = home.peerID] in
            self?.control?.publish(.homeRegistered(peerId: peerID))
        }
        home.start()
        Log.info("intercom", "home ID \(home.peerID)")
    }

    /// A data connection to `peer` through the home ID (`dc_…`, reliable); nil for an invalid peer ID or when
    /// the home ID is not in service. EXPIRE from the server (the peer is not registered) closes it with
    /// "offline"; not open after `DataLink.openTimeoutMillis`, with "timeout".
    func openDataLink(to peer: String, label: String? = nil, serialization: DataSerialization = .json,
                      metadata: JSONValue? = nil) -> DataLink? {
        home?.openLink(to: peer, label: label, serialization: serialization, metadata: metadata)
    }

    func addHomeState(to state: inout [String: JSONValue]) {
        state["homePeerId"] = home.map { .string($0.peerID) } ?? .null
        if case .dialing(_, let dial) = machine.phase {
            state["dialing"] = ["peer": .string(dial.call.peer), "connectionId": .string(dial.call.connectionId),
                                "deadline": .number(Double(DoorClock.system.wallTime(ofMonotonic: dial.deadline)))]
        } else {
            state["dialing"] = .null
        }
        state["dataLinks"] = .array((home?.links.values.filter { !$0.isClosed } ?? []).map { link in
            ["peer": .string(link.peer), "connectionId": .string(link.connectionId),
             "direction": .string(link.direction.rawValue), "label": .string(link.label),
             "serialization": .string(link.serialization.rawValue), "open": .bool(link.isOpen),
             "keptAlive": .bool(link.isKeptAlive)]
        })
    }

    // MARK: - Control socket: connect, chat with a peer, disconnect

    /// `{"cmd":"connect","peer":…,"serialization"?,"label"?,"metadata"?}`: a data link for chat from the
    /// control socket. Its messages arrive as `chat` events (`data` for anything that is not chat).
    func connectControl(_ request: JSONValue) -> JSONValue {
        guard let peer = request["peer"]?.stringValue, isValidPeerID(peer) else {
            return ["ok": false, "error": "connect needs peer: a PeerJS peer ID"]
        }
        let name = request["serialization"]?.stringValue ?? "json"
        guard let serialization = DataSerialization(wireName: name) else {
            return ["ok": false, "error": "serialization must be binary, json or raw"]
        }
        guard let link = openDataLink(to: peer, label: request["label"]?.stringValue, serialization: serialization,
                                      metadata: request["metadata"]) else {
            return ["ok": false, "error": .string(home == nil || peer == home?.peerID
                                                  ? "cannot connect to \(peer)" : "the home ID is not in service")]
        }
        let key = CallID(peer: peer, connectionId: link.connectionId)
        home?.consoleLinks[key] = link
        let connectionId = link.connectionId
        link.onOpen = { [weak self] in self?.control?.publish(.dataOpen(peer: peer, connectionId: connectionId)) }
        link.onMessage = { [weak self, weak link] value in
            guard let self, let link else { return }
            if case .success(.chat(let text)) = ChatMessage.parse(DataValue(value), on: link.serialization) {
                control?.publish(.chat(from: "peer", text: text, peer: peer, connectionId: connectionId))
            } else {
                control?.publish(.data(peer: peer, connectionId: connectionId, value: value))
            }
        }
        link.onClosed = { [weak self] reason in
            self?.home?.consoleLinks[key] = nil
            self?.control?.publish(.dataClosed(peer: peer, connectionId: connectionId, reason: reason))
        }
        return ["ok": true, "connectionId": .string(link.connectionId), "homePeerId": .string(home?.peerID ?? "")]
    }

    /// A chat message over the open `ctl connect` links to `peer`.
    func chatToPeer(_ peer: String, text: String) -> JSONValue {
        let links = (home?.consoleLinks.values ?? [:].values).filter { $0.peer == peer }
        guard !links.isEmpty else { return ["ok": false, "error": .string("no data connection to \(peer); ctl connect first")] }
        let sent = links.filter { $0.send(ChatMessage.chat(text).json(for: $0.serialization)) }.count
        guard sent > 0 else {
            return ["ok": false, "error": .string("the connection to \(peer) is not open yet")]
        }
        return ["ok": true]
    }

    /// `{"cmd":"disconnect","peer":…}`: closes the `ctl connect` links to `peer`.
    func disconnectControl(_ request: JSONValue) -> JSONValue {
        guard let peer = request["peer"]?.stringValue else { return ["ok": false, "error": "disconnect needs peer"] }
        let links = (home?.consoleLinks ?? [:]).filter { $0.key.peer == peer }
        guard !links.isEmpty else { return ["ok": false, "error": .string("no data connection to \(peer)")] }
        links.values.forEach { $0.close() }
        return ["ok": true]
    }

    // MARK: - Calling out

    /// `{"cmd":"call","peer":…,"name"?,"metadata"?}`: the door calls `peer` through its home ID (`mc_…`); the
    /// screen calls it `name` (default "Resident"). From idle, a passing screen or an open room; otherwise "busy".
    func callControl(_ request: JSONValue) -> JSONValue {
        guard let peer = request["peer"]?.stringValue, isValidPeerID(peer) else {
            return ["ok": false, "error": "call needs peer: a PeerJS peer ID"]
        }
        guard let home, home.client.state != .closed, peer != home.peerID else {
            return ["ok": false, "error": .string("cannot call \(peer): the home ID is not in service")]
        }
        let call = CallID(peer: peer, connectionId: "mc_" + PeerJSClient.randomToken())
        let name = request["name"]?.stringValue
        latestCaller = (peer, name.map { CallerName.from(metadata: ["name": .string($0)]) } ?? "Resident")
        handle(.dial(call, metadata: request["metadata"]))
        guard case .dialing(_, let dial) = machine.phase, dial.call == call else {
            return ["ok": false, "error": .string("busy: the door is in phase \(machine.phase.name)")]
        }
        return ["ok": true, "connectionId": .string(call.connectionId), "homePeerId": .string(home.peerID)]
    }

    /// The state machine's `dial`: an offering session, its OFFER through the home ID.
    func dial(_ call: CallID, metadata: JSONValue?) {
        guard let home else { return handle(.callEnded(call, .failed)) }
        let session = media.calling(call)
        callSessionsCreated += 1
        var deadline = Int64.max
        if case .dialing(_, let dial) = machine.phase, dial.call == call { deadline = dial.deadline }
        let metadata = metadata ?? ["name": .string(machine.settings.doorName), "intercom": "door"]
        calls.update(call) { record in
            record.session = session
            record.dial = DialAttempt(call: call, deadline: deadline, metadata: metadata)
        }
        var offerSDP: String?
        attachCall(session, call, remoteSDP: { [weak self] in self?.calls[call]?.dial?.answerSDP }) { [weak self, weak home] event in
            switch event {
            case .offer(let sdp):
                offerSDP = sdp
                let payload = ConnectionPayload(sdp: SessionDescription(type: "offer", sdp: sdp), type: .media,
                                                connectionId: call.connectionId, metadata: metadata)
                home?.client.send(PeerJSMessage(type: .offer, dst: call.peer, payload: payload.json))
            case .localCandidate(let mline, let candidate):
                let payload = LocalCandidate.payload(candidate, mline: mline, offerSDP: offerSDP, type: .media,
                                                     connectionId: call.connectionId)
                home?.client.send(PeerJSMessage(type: .candidate, dst: call.peer, payload: payload.json))
            case .ended(let reason, _):
                // Before the common end (`callEnded`), so the attempt says why it went unanswered first.
                self?.dialEnded(call, reason: reason)
            default:
                break
            }
        }
        do { try session.start() } catch {
            Log.warning("intercom", "cannot call \(call.peer): \(error)")
            calls.amend(call) { $0.session = nil; $0.dial = nil }
            return handle(.callEnded(call, .failed))
        }
        Log.info("intercom", "calling \(call.peer) (\(call.connectionId)) from \(home.peerID)")
        control?.publish(.dialing(peer: call.peer, connectionId: call.connectionId))
    }

    /// A placed call's session ended. Before an answer that is a failed attempt: say why, and tell the peer's
    /// page to stop ringing (PeerJS has no cancel; the web page takes a LEAVE with reason "cancelled").
    private func dialEnded(_ call: CallID, reason: CallSession.EndReason) {
        dialEvent(.sessionEnded(failed: reason == .failed, at: monotonicMillis()), call)
        calls.amend(call) { $0.dial = nil }
    }

    /// Feeds one event to a placed call's `DialAttempt` and carries out what it returns.
    func dialEvent(_ event: DialAttempt.Event, _ call: CallID) {
        guard var attempt = calls[call]?.dial else { return }
        let actions = attempt.handle(event)
        calls.amend(call) { $0.dial = attempt }
        for action in actions {
            switch action {
            case .applyAnswer(let sdp):
                guard let session = calls.session(call) else { continue }
                do { try session.setRemoteAnswer(sdp) } catch {
                    Log.warning("intercom", "the answer of \(call.peer) is unusable: \(error)")
                    dialEvent(.answerUnusable, call)
                    continue
                }
                Log.info("intercom", "\(call.peer) answered the door's call (\(call.connectionId))")
                control?.publish(.callAnswered(peer: call.peer, connectionId: call.connectionId))
                handle(.dialAnswered(call))
                // Placed from an open room, the call is that room's one call now: paired browsers stop ringing.
                if case .inCall(_?, let active) = machine.phase, active.call == call { pairedRoomAnswered(by: call) }
            case .endCall(let by):
                handle(.callEnded(call, by))
            case .hangUp:
                calls.session(call)?.hangUp()
            case .endAsHungUpByPeer:
                calls.session(call)?.peerHungUp("said so over signaling (LEAVE)")
            case .sendCancel:
                home?.client.send(.leave(to: call.peer, LeavePayload(reason: "cancelled", connectionId: call.connectionId)))
            case .reportUnanswered(let why):
                Log.info("intercom", "the call to \(call.peer) (\(call.connectionId)) ended unanswered: \(why)")
                control?.publish(.callFailed(peer: call.peer, connectionId: call.connectionId, reason: why))
            }
        }
    }
}
