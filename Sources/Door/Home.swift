import DoorCore
import MainLoop
import Signaling

/// The door's permanent registration, its **home ID** (`HomePeerID`), and the connections that go through it:
/// data links the door opens (`openLink`), data OFFERs that arrive at it (taken only by `dataOfferHandler`),
/// and, through `onOtherMessage`, the signaling of the door's outgoing media calls and their chat
/// (Device+Dial.swift).
///
/// Everything from the network passes `SignalingLimits` first, then is routed strictly by (peer,
/// connectionId); what matches nothing is dropped with a debug line.
@GLibActor
final class Home {
    typealias CallID = CallStateMachine.CallID

    let peerID: String
    let client: any SignalingChannel
    /// Rate, SDP size, candidates and concurrent incoming connections of what reaches the home ID.
    private var limits = SignalingLimits()
    private var limitDrops = (count: 0, lastLogged: Int64(0))
    /// Data links through the home ID, both directions, by (peer, connectionId); closed ones are swept out.
    private(set) var links: [CallID: DataLink] = [:]
    /// Incoming links not open yet, each closed if it does not open within `openTimeoutMillis`: a stranger's
    /// offer that never connects must not hold a slot (pairing, data) for long.
    private var openDeadlines: [CallID: GLibTimer] = [:]
    static let openTimeoutMillis: UInt32 = 15_000
    /// The links `ctl connect` opened (chat from the control socket), by (peer, connectionId).
    var consoleLinks: [CallID: DataLink] = [:]

    /// Asked first about each data OFFER to the home ID: true when the door takes it itself (the chat of a
    /// call it placed).
    var callDataOffer: (@GLibActor (ConnectionPayload, _ peer: String) -> Bool)?
    /// Decides a data OFFER to the home ID: gets the link built from it (nothing started, nothing sent yet),
    /// sets its callbacks and returns true to take it, which answers it. No handler, or false: refused
    /// (no answer, no candidate) and counted through `onDataOfferRefused`.
    var dataOfferHandler: (@GLibActor (DataLink) -> Bool)?
    var onDataOfferRefused: (@GLibActor (_ peer: String) -> Void)?
    /// Registered (and again after each reconnect).
    var onOpen: (@GLibActor () -> Void)?
    /// Messages no data link claims (media OFFER/ANSWER/CANDIDATE, EXPIRE, LEAVE), after the links had theirs.
    var onOtherMessage: (@GLibActor (PeerJSMessage) -> Void)?

    init(host: WebSocketHost, server: WebSocketURL, key: String, peerID: String,
         connect: @GLibActor (PeerJSClient.Options, WebSocketHost) -> any SignalingChannel = DeviceSeams.real.signaling,
         allowSelfSigned: Bool = false, token: String = PeerJSClient.randomToken()) {
        self.peerID = peerID
        var options = PeerJSClient.Options(server: server, id: peerID, token: token)
        options.key = key
        options.allowSelfSigned = allowSelfSigned
        // The home ID cannot move to another ID: it keeps reclaiming its own rather than give up.
        options.idTakenRetries = .max
        client = connect(options, host)
        client.onMessage = { [weak self] message in self?.admit(message) }
        client.onOpen = { [weak self] in self?.onOpen?() }
        client.onFailure = { [peerID] error in
            Log.error("intercom", "the home ID \(peerID) cannot register: \(error); outgoing connections are off")
        }
    }

    func start() { client.start() }

    func stop() {
        for link in links.values { link.close() }
        links.removeAll()
        client.stop()
    }

    /// Opens a data connection to `peer` through the home ID; nil for an invalid peer ID or our own.
    func openLink(to peer: String, label: String?, serialization: DataSerialization, metadata: JSONValue?) -> DataLink? {
        guard isValidPeerID(peer), peer != peerID, client.state != .closed else { return nil }
        sweep()
        let link = DataLink(to: peer, label: label, serialization: serialization, metadata: metadata, through: client)
        links[CallID(peer: peer, connectionId: link.connectionId)] = link
        return link.start() ? link : nil
    }

    // MARK: - Routing

    private func admit(_ message: PeerJSMessage) {
        let now = monotonicMillis()
        switch limits.admit(message, now: now) {
        case .accept:
            route(message)
        case .drop(let reason):
            limitDrops.count += 1
            guard now - limitDrops.lastLogged >= 1000 else { return }
            Log.warning("intercom", "home ID: dropped \(message.type.rawValue) from \(message.src ?? "?"): \(reason)"
                        + (limitDrops.count > 1 ? " (\(limitDrops.count) dropped since the last line)" : ""))
            limitDrops = (0, now)
        }
    }

    private func route(_ message: PeerJSMessage) {
        guard let src = message.src else { return }
        sweep()
        switch message.type {
        case .offer:
            guard message.payload?["type"]?.stringValue == "data" else {
                onOtherMessage?(message)
                return
            }
            let payload: ConnectionPayload
            do { payload = try ConnectionPayload(message.payload) } catch {
                return Log.debug("intercom", "home ID: dropped an OFFER from \(src): \(error)")
            }
            takeDataOffer(payload, from: src)
        case .answer:
            let payload: ConnectionPayload
            do { payload = try ConnectionPayload(message.payload) } catch {
                return Log.debug("intercom", "home ID: dropped an ANSWER from \(src): \(error)")
            }
            guard payload.type == .data else {
                onOtherMessage?(message)
                return
            }
            guard let link = links[CallID(peer: src, connectionId: payload.connectionId)], link.direction == .outgoing else {
                onOtherMessage?(message)
                return
            }
            link.receivedAnswer(payload)
        case .candidate:
            let payload: CandidatePayload
            do { payload = try CandidatePayload(message.payload) } catch {
                return Log.debug("intercom", "home ID: dropped a CANDIDATE from \(src): \(error)")
            }
            guard payload.type == .data else {
                onOtherMessage?(message)
                return
            }
            guard let link = links[CallID(peer: src, connectionId: payload.connectionId)] else {
                onOtherMessage?(message)
                return
            }
            link.addRemoteCandidate(payload)
        case .expire:
            // The server could not deliver to `src`: it is not registered. Links not open yet cannot open;
            // open ones run peer to peer and go on.
            for link in links.values where link.peer == src && link.direction == .outgoing && !link.isOpen {
                Log.info("intercom", "data connection to \(src) (\(link.connectionId)): the peer is offline (EXPIRE)")
                link.end(because: "offline")
            }
            onOtherMessage?(message)
        case .leave:
            // A PeerJS peer closes every connection with the sender of a LEAVE; so do we — except for one call's
            // hang-up (reason "hangup" with that call's connectionId), which is the call's business only.
            if let leave = message.leave {
                let reason = leave.reason ?? "left"
                for link in links.values where link.peer == src && leave.ends(connectionId: link.connectionId) {
                    link.end(because: reason)
                }
            }
            onOtherMessage?(message)
        default:
            Log.debug("intercom", "home ID: dropped \(message.type.rawValue) from \(src)")
        }
    }

    private func takeDataOffer(_ payload: ConnectionPayload, from src: String) {
        if let callDataOffer, callDataOffer(payload, src) { return }
        let key = CallID(peer: src, connectionId: payload.connectionId)
        let link: DataLink
        do { link = try DataLink(offer: payload, from: src, through: client) } catch {
            return Log.info("intercom", "home ID: dropped a data OFFER from \(src): \(error)")
        }
        guard let dataOfferHandler, dataOfferHandler(link) else {
            Log.info("intercom", "home ID: refused a data OFFER from \(src) (\(payload.connectionId))")
            onDataOfferRefused?(src)
            return
        }
        // An OFFER with a known connectionId replaces that connection (PeerJS has no renegotiation).
        links.removeValue(forKey: key)?.close()
        links[key] = link
        limits.opened(peer: src, connectionId: payload.connectionId)
        link.start()
        openDeadlines[key] = GLibTimer(milliseconds: Self.openTimeoutMillis) { [weak self, weak link] in
            self?.openDeadlines[key] = nil
            guard let link, !link.isOpen, !link.isClosed else { return }
            Log.info("intercom", "home ID: data connection from \(src) (\(key.connectionId)) never opened; closed")
            link.end(because: "not opened")
        }
    }

    /// Forgets closed links (their callbacks have run) and frees their slots in the limits.
    private func sweep() {
        for (key, link) in links where link.isClosed {
            links[key] = nil
            openDeadlines[key] = nil
            limits.release(peer: key.peer, connectionId: key.connectionId)
        }
    }
}
