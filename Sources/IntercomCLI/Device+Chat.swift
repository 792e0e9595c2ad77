import Admission
import DoorCore
import MainLoop
import Media
import Signaling

/// Chat and status over PeerJS data connections (docs/control-socket.md#chat): only the caller of the running
/// call (or the waiting caller once answered) may open one; what it says arrives as `chat` events.
extension Device {
    /// A data OFFER: kept only from the peer whose call the door answered, within `SignalingLimits`.
    func acceptData(_ payload: ConnectionPayload, from src: String, door: RoomGate.Door) {
        let call = CallID(peer: src, connectionId: payload.connectionId)
        guard let mediaCall = sessions.keys.first(where: { $0.peer == src }), sessions[mediaCall]?.isEnded == false else {
            dataOffersRefused += 1
            return Log.debug("intercom", "dropped a data OFFER from \(src): not the door's caller")
        }
        guard let signaling = signaling(for: mediaCall) else { return }
        let link: DataLink
        do { link = try DataLink(offer: payload, from: src, through: signaling) } catch {
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
        link.start()
    }

    /// A remote candidate for a data connection; false when `call` is not one.
    func addDataCandidate(_ call: CallID, _ payload: CandidatePayload) -> Bool {
        guard let link = chats[call] else { return false }
        link.addRemoteCandidate(payload)
        return true
    }

    private func chatReceived(_ value: JSONValue, on link: DataLink) {
        switch ChatMessage.parse(DataValue(value), on: link.serialization) {
        case .success(.chat(let text)):
            control?.publish(["event": "chat", "from": "visitor", "text": .string(text)])
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
