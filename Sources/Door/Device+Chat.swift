import Admission
import DoorCore
import MainLoop
import Media
import Signaling

/// Chat and status over PeerJS data connections (docs/control-socket.md#chat): only the caller of the running
/// call (or the waiting caller once answered) may open one; what it says arrives as `chat` events.
extension Device {
    /// A data OFFER: taken from the peer whose call the door answered, within `SignalingLimits`; held while
    /// that peer's call waits to be let in (or may be about to arrive); dropped otherwise.
    func acceptData(_ payload: ConnectionPayload, from src: String, door: RoomGate.Door) {
        let call = CallID(peer: src, connectionId: payload.connectionId)
        guard let (mediaCall, session) = calls.sessions.first(where: { $0.call.peer == src }), !session.isEnded else {
            if holdData(payload, from: src, door: door) { return }
            dataOffersRefused += 1
            return Log.debug("intercom", "dropped a data OFFER from \(src): not the door's caller")
        }
        guard let signaling = signaling(for: mediaCall) else { return }
        let link: DataLink
        do { link = try DataLink(offer: payload, from: src, through: signaling, parts: dataLinks) } catch {
            return Log.info("intercom", "dropped a data OFFER from \(src): \(error)")
        }
        chats.removeValue(forKey: call)?.close()
        limits.opened(peer: src, connectionId: payload.connectionId)
        chats[call] = link
        link.onMessage = { [weak self, weak link] value in
            guard let self, let link else { return }
            self.chatReceived(value, on: link)
        }
        link.onClosed = { [weak self, weak link] _ in
            guard let self, let link, self.chats[call] === link else { return }
            self.chats[call] = nil
            self.limits.release(peer: call.peer, connectionId: call.connectionId)
        }
        attachPictureDrop(to: link)
        link.start()
    }

    // MARK: - Data offers held for a waiting call

    /// A PeerJS app opens its data connection and its call together (`peer.connect` and `peer.call`), so the
    /// data OFFER often arrives while the call is a knock, or even just before the call's OFFER. It is kept,
    /// unanswered (no candidate, no media object), with the candidates that follow it, until the call is let in.
    private func holdData(_ payload: ConnectionPayload, from src: String, door: RoomGate.Door) -> Bool {
        let call = CallID(peer: src, connectionId: payload.connectionId)
        sweepHeldData()
        if heldData[call] != nil { return true }
        // Someone else's call runs (or no room is open): this peer's call could never be let in.
        guard hasPendingCall(from: src) || mayTakeACall else { return false }
        guard heldData.count < HeldDataOffer.limit,
              heldData.keys.filter({ $0.peer == src }).count < HeldDataOffer.perPeer else { return false }
        heldData[call] = HeldDataOffer(payload: payload, src: src, door: door, heldAt: monotonicMillis())
        Log.info("intercom", "holding the data connection \(call) until its call is let in")
        if heldDataSweep == nil {
            heldDataSweep = GLibTimer(milliseconds: 500, repeating: true) { [weak self] in self?.sweepHeldData() }
        }
        return true
    }

    /// Drops held offers that outlived their bound: `withoutCallMillis` when their peer has no waiting call,
    /// `maxMillis` in any case.
    private func sweepHeldData() {
        let now = monotonicMillis()
        for (call, held) in heldData {
            let age = now - held.heldAt
            guard age >= HeldDataOffer.maxMillis || (age >= HeldDataOffer.withoutCallMillis && !hasPendingCall(from: call.peer))
            else { continue }
            heldData[call] = nil
            rooms.router.forget(call)
            dataOffersRefused += 1
            Log.info("intercom", "dropped the held data connection \(call): no call of its peer was let in within \(age) ms")
        }
        if heldData.isEmpty { heldDataSweep = nil }
    }

    /// The peer's call was let in: take its held data offers now, candidates and all.
    func takeHeldData(peer: String) {
        for (call, held) in heldData where call.peer == peer {
            heldData[call] = nil
            Log.info("intercom", "taking the held data connection \(call)")
            acceptData(held.payload, from: held.src, door: held.door)
            // The candidates the router kept while the offer was held.
            let kept = rooms.router.release(call)
            for candidate in kept { chats[call]?.addRemoteCandidate(candidate) }
        }
        if heldData.isEmpty { heldDataSweep = nil }
    }

    /// The peer's waiting call ended unanswered (nil: everyone's, the room closed): its held offers go too.
    func dropHeldData(peer: String?, _ why: String) {
        for call in heldData.keys where peer == nil || call.peer == peer {
            heldData[call] = nil
            rooms.router.forget(call)
            dataOffersRefused += 1
            Log.info("intercom", "dropped the held data connection \(call): \(why)")
        }
        if heldData.isEmpty { heldDataSweep = nil }
    }

    private func chatReceived(_ value: JSONValue, on link: DataLink) {
        switch ChatMessage.parse(DataValue(value), on: link.serialization) {
        case .success(.chat(let text)):
            control?.publish(.chat(from: "visitor", text: text, peer: nil, connectionId: nil))
            display?.showCaption(text)
        case .failure(.tooLong(let characters)):
            Log.info("intercom", "dropped a chat message of \(characters) characters from \(link.peer) "
                     + "(limit \(ChatMessage.maxTextCharacters))")
            // Say so, on the page's status line, rather than lose it without a word.
            link.send(ChatMessage.notice("Not delivered: the door takes messages of up to \(ChatMessage.maxTextCharacters) characters.")
                        .json(for: link.serialization))
        default:
            Log.debug("intercom", "ignored a data message from \(link.peer)")
        }
    }

    /// Sends `message` over every open data connection of the running call's caller; how many took it.
    @discardableResult
    func sendToCaller(_ message: ChatMessage) -> Int {
        guard let peer = activeSession?.peer else { return 0 }
        return chats.values.filter { $0.peer == peer && $0.send(message.json(for: $0.serialization)) }.count
    }

    /// Closes the data connections of `peer` (all of them when nil): the call they belong to is over.
    func closeChats(peer: String?) {
        for (call, link) in chats where peer == nil || call.peer == peer {
            chats[call] = nil
            limits.release(peer: call.peer, connectionId: call.connectionId)
            link.close()
        }
    }

    /// `{"cmd":"chat","text":…}`: a message to the caller of the running call; with `"peer"`, over the
    /// `ctl connect` links to that peer instead.
    func chatControl(_ request: JSONValue) -> JSONValue {
        guard let text = request["text"]?.stringValue, !text.allSatisfy(\.isWhitespace) else {
            return ["ok": false, "error": "chat needs text"]
        }
        guard text.count <= ChatMessage.maxTextCharacters else {
            return ["ok": false, "error": .string("chat text over \(ChatMessage.maxTextCharacters) characters; not sent")]
        }
        if let peer = request["peer"]?.stringValue { return chatToPeer(peer, text: text) }
        guard activeSession != nil else { return ["ok": false, "error": "no call is running"] }
        guard sendToCaller(.chat(text)) > 0 else { return ["ok": false, "error": "the caller has no open chat"] }
        return ["ok": true]
    }
}

extension ChatMessage {
    /// The message as the JSON a `DataLink` of `serialization` sends: its map, or on `raw` the map's JSON text
    /// (every chat message is a map of strings and booleans).
    func json(for serialization: DataSerialization) -> JSONValue { value(for: serialization).json ?? .null }
}

/// A data OFFER kept while its peer's call waits (`Device.holdData`); the candidates that follow it wait in the
/// room's `PeerJSRouter`.
struct HeldDataOffer {
    /// At most this many held at once, and per peer.
    static let limit = 4
    static let perPeer = 2
    /// A held offer whose peer has no waiting call (its call's OFFER has not come yet) is dropped after this;
    /// one whose call waits, after `maxMillis` at most (a knock can wait for ANSWER that long).
    static let withoutCallMillis: Int64 = 5000
    static let maxMillis: Int64 = 180_000

    let payload: ConnectionPayload
    let src: String
    let door: RoomGate.Door
    let heldAt: Int64
}
