import Admission
import Intercom
import MainLoop
import Media
import Signaling

/// One data connection from the caller: its webrtcbin session and the codec of its serialization.
@GLibActor
final class ChatConnection {
    let call: CallStateMachine.CallID
    let session: DataSession
    var codec: DataChannelCodec
    init(call: CallStateMachine.CallID, session: DataSession, codec: DataChannelCodec) {
        self.call = call; self.session = session; self.codec = codec
    }
}

/// Chat and status over PeerJS data connections (README "Control socket"): only the caller of the running
/// call (or the waiting caller once answered) may open one; what it says arrives as `chat` events.
extension Device {
    /// A data OFFER: kept only from the peer whose call the door answered, within `SignalingLimits`.
    func acceptData(_ payload: ConnectionPayload, from src: String, door: RoomGate.Door) {
        let call = CallID(peer: src, connectionId: payload.connectionId)
        guard let mediaCall = sessions.keys.first(where: { $0.peer == src }), sessions[mediaCall]?.isEnded == false else {
            dataOffersRefused += 1
            return Log.debug("intercom", "dropped a data OFFER from \(src): not the door's caller")
        }
        guard let serialization = DataSerialization(wireName: payload.serialization) else {
            return Log.info("intercom", "dropped a data OFFER from \(src): unknown serialization \(payload.serialization ?? "")")
        }
        chats.removeValue(forKey: call)?.session.close()
        let session: DataSession
        do {
            session = try DataSession(peer: src, connectionId: payload.connectionId, offerSDP: payload.sdp.sdp)
        } catch {
            return Log.info("intercom", "dropped a data OFFER from \(src): \(error)")
        }
        let connection = ChatConnection(call: call, session: session,
                                        codec: DataChannelCodec(serialization: serialization, jsonAsText: payload.browser != nil))
        limits.opened(peer: src, connectionId: payload.connectionId)
        callDoor[call] = callDoor[mediaCall] ?? door
        chats[call] = connection
        session.onAnswer = { [weak self] sdp in
            let answer = ConnectionPayload(sdp: SessionDescription(type: "answer", sdp: sdp), type: .data,
                                           connectionId: call.connectionId)
            self?.signaling(for: call)?.send(PeerJSMessage(type: .answer, dst: call.peer, payload: answer.json))
        }
        session.onLocalCandidate = { [weak self] mline, candidate in
            let payload = CandidatePayload(candidate: candidate, sdpMid: String(mline), sdpMLineIndex: mline,
                                           type: .data, connectionId: call.connectionId)
            self?.signaling(for: call)?.send(PeerJSMessage(type: .candidate, dst: call.peer, payload: payload.json))
        }
        session.onMessage = { [weak self, weak connection] message in
            guard let self, let connection else { return }
            self.chatReceived(message, on: connection)
        }
        session.onClosed = { [weak self, weak connection] _ in
            guard let self, let connection, self.chats[call] === connection else { return }
            self.chats[call] = nil
            self.callDoor[call] = nil
            self.limits.release(peer: call.peer, connectionId: call.connectionId)
        }
        do { try session.start() } catch {
            Log.warning("intercom", "cannot answer the data connection \(call): \(error)")
            session.close()
            chats[call] = nil
            callDoor[call] = nil
            limits.release(peer: call.peer, connectionId: call.connectionId)
        }
    }

    /// A remote candidate for a data connection; false when `call` is not one.
    func addDataCandidate(_ call: CallID, mline: Int, candidate: String) -> Bool {
        guard let connection = chats[call] else { return false }
        connection.session.addRemoteCandidate(mline: mline, candidate: candidate)
        return true
    }

    private func chatReceived(_ message: DataSession.Message, on connection: ChatConnection) {
        let frame: DataChannelCodec.Frame = switch message {
        case .text(let text): .text(text)
        case .bytes(let bytes): .binary(bytes)
        }
        let received: DataChannelCodec.Received?
        do { received = try connection.codec.receive(frame) } catch {
            return Log.debug("intercom", "dropped a data message from \(connection.call.peer): \(error)")
        }
        switch received {
        case .close:
            connection.session.close()
        case .message(let value):
            switch ChatMessage.parse(value, on: connection.codec.serialization) {
            case .success(.chat(let text)):
                control?.publish(["event": "chat", "from": "visitor", "text": .string(text)])
                display?.showCaption(text)
            case .failure(.tooLong(let characters)):
                Log.info("intercom", "dropped a chat message of \(characters) characters from \(connection.call.peer) "
                         + "(limit \(ChatMessage.maxTextCharacters))")
                // Say so, on the page's status line, rather than lose it without a word.
                send(.notice("Not delivered: the door takes messages of up to \(ChatMessage.maxTextCharacters) characters."),
                     on: connection)
            default:
                Log.debug("intercom", "ignored a data message from \(connection.call.peer)")
            }
        case nil:
            break
        }
    }

    /// Sends `message` over every open data connection of the running call's caller; how many took it.
    @discardableResult
    func sendToCaller(_ message: ChatMessage) -> Int {
        guard let peer = activeSession?.peer else { return 0 }
        var sent = 0
        for connection in chats.values where connection.call.peer == peer && connection.session.isOpen {
            if send(message, on: connection) { sent += 1 }
        }
        return sent
    }

    @discardableResult
    private func send(_ message: ChatMessage, on connection: ChatConnection) -> Bool {
        do {
            return send(try connection.codec.frames(for: message.value(for: connection.codec.serialization)), on: connection)
        } catch {
            Log.warning("intercom", "cannot encode a message for \(connection.call.peer): \(error)")
            return false
        }
    }

    private func send(_ frames: [DataChannelCodec.Frame], on connection: ChatConnection) -> Bool {
        var ok = true
        for frame in frames {
            switch frame {
            case .text(let text): ok = connection.session.send(text: text) && ok
            case .binary(let bytes): ok = connection.session.send(bytes: bytes) && ok
            }
        }
        return ok
    }

    /// Closes the data connections of `peer` (all of them when nil): the call they belong to is over.
    func closeChats(peer: String?) {
        for (call, connection) in chats where peer == nil || call.peer == peer {
            chats[call] = nil
            callDoor[call] = nil
            limits.release(peer: call.peer, connectionId: call.connectionId)
            connection.session.close()
        }
    }

    /// `{"cmd":"chat","text":…}`: a message to the caller of the running call.
    func chatControl(_ request: JSONValue) -> JSONValue {
        guard let text = request["text"]?.stringValue, !text.allSatisfy(\.isWhitespace) else {
            return ["ok": false, "error": "chat needs text"]
        }
        guard text.count <= ChatMessage.maxTextCharacters else {
            return ["ok": false, "error": .string("chat text over \(ChatMessage.maxTextCharacters) characters; not sent")]
        }
        guard activeSession != nil else { return ["ok": false, "error": "no call is running"] }
        guard sendToCaller(.chat(text)) > 0 else { return ["ok": false, "error": "the caller has no open chat"] }
        return ["ok": true]
    }
}
