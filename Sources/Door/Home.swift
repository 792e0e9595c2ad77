import DoorCore
import MainLoop
import Signaling

/// The door's permanent registration, its **home ID** (`HomePeerID`), and the data links that go through it:
/// those the door opens (`openLink`) and data OFFERs that arrive at it (taken only by `dataOfferHandler`).
///
/// Everything from the network passes `SignalingLimits` first, then goes to the device (`onMessage`), which
/// routes it strictly by (peer, connectionId) over these links, its placed calls and their chat
/// (`Device.routeHome`); what matches nothing is dropped with a debug line.
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

    /// Decides a data OFFER to the home ID: gets the link built from it (nothing started, nothing sent yet),
    /// sets its callbacks and returns true to take it, which answers it. No handler, or false: refused
    /// (no answer, no candidate) and counted through `onDataOfferRefused`.
    var dataOfferHandler: (@GLibActor (DataLink) -> Bool)?
    var onDataOfferRefused: (@GLibActor (_ peer: String) -> Void)?
    /// Registered (and again after each reconnect).
    var onOpen: (@GLibActor () -> Void)?
    /// Every OFFER, ANSWER, CANDIDATE, LEAVE and EXPIRE the limits let through: the device routes it
    /// (`Device.routeHome`, Device+Routing.swift) with `router`, over these links and its placed calls.
    var onMessage: (@GLibActor (PeerJSMessage) -> Void)?
    /// The candidates-and-routes rules of the home ID's connections (the same type as the room's).
    var router = PeerJSRouter<DoorRoute>()

    /// What its data links are made with (the door's media seam and keepalive policy).
    private let parts: DataLinkParts

    init(host: WebSocketHost, server: WebSocketURL, key: String, peerID: String, parts: DataLinkParts,
         connect: @GLibActor (PeerJSClient.Options, WebSocketHost) -> any SignalingChannel = DeviceSeams.real.signaling,
         allowSelfSigned: Bool = false, token: String = PeerJSClient.randomToken()) {
        self.peerID = peerID
        self.parts = parts
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
        let link = DataLink(to: peer, label: label, serialization: serialization, metadata: metadata, through: client,
                            parts: parts)
        links[CallID(peer: peer, connectionId: link.connectionId)] = link
        return link.start() ? link : nil
    }

    // MARK: - Routing

    private func admit(_ message: PeerJSMessage) {
        let now = monotonicMillis()
        switch limits.admit(message, now: now) {
        case .accept:
            onMessage?(message)
        case .drop(let reason):
            limitDrops.count += 1
            guard now - limitDrops.lastLogged >= 1000 else { return }
            Log.warning("intercom", "home ID: dropped \(message.type.rawValue) from \(message.src ?? "?"): \(reason)"
                        + (limitDrops.count > 1 ? " (\(limitDrops.count) dropped since the last line)" : ""))
            limitDrops = (0, now)
        }
    }

    /// A data OFFER to the home ID that no placed call claimed: built, then taken or refused by
    /// `dataOfferHandler`.
    func takeDataOffer(_ payload: ConnectionPayload, from src: String) {
        let key = CallID(peer: src, connectionId: payload.connectionId)
        let link: DataLink
        do { link = try DataLink(offer: payload, from: src, through: client, parts: parts) } catch {
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
    func sweep() {
        for (key, link) in links where link.isClosed {
            links[key] = nil
            openDeadlines[key] = nil
            limits.release(peer: key.peer, connectionId: key.connectionId)
        }
    }
}
