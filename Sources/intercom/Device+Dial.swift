import Intercom
import MainLoop
import Signaling

/// What the door initiates through its home ID (README "Signaling"): data connections to any peer
/// (`openDataLink`, `ctl connect`), and the hook for data OFFERs that arrive at the home ID.
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
        home.onOpen = { [weak self, peerID = home.peerID] in
            self?.control?.publish(["event": "home-registered", "peerId": .string(peerID)])
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
        state["dataLinks"] = .array((home?.links.values.filter { !$0.isClosed } ?? []).map { link in
            ["peer": .string(link.peer), "connectionId": .string(link.connectionId),
             "direction": .string(link.direction.rawValue), "label": .string(link.label),
             "serialization": .string(link.serialization.rawValue), "open": .bool(link.isOpen)]
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
        let ids: [String: JSONValue] = ["peer": .string(peer), "connectionId": .string(link.connectionId)]
        link.onOpen = { [weak self] in self?.control?.publish(.object(ids.merging(["event": "data-open"]) { $1 })) }
        link.onMessage = { [weak self, weak link] value in
            guard let self, let link else { return }
            if case .success(.chat(let text)) = ChatMessage.parse(DataValue(value), on: link.serialization) {
                control?.publish(.object(ids.merging(["event": "chat", "from": "peer", "text": .string(text)]) { $1 }))
            } else {
                control?.publish(.object(ids.merging(["event": "data", "value": value]) { $1 }))
            }
        }
        link.onClosed = { [weak self] reason in
            self?.home?.consoleLinks[key] = nil
            self?.control?.publish(.object(ids.merging(["event": "data-closed", "reason": reason.map(JSONValue.string) ?? .null]) { $1 }))
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
}
