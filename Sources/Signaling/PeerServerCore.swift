import DoorCore

/// The built-in PeerJS server's bookkeeping, without sockets: who is registered, what is queued, what expires.
/// It behaves like the official PeerServer (docs/signaling.md#the-built-in-server) so a stock PeerJS page cannot
/// tell the difference. `Connection` is whatever handle the transport uses for a socket.
public struct PeerServerCore<Connection: Hashable & Sendable>: Sendable {
    public struct Settings: Sendable {
        public var key = "peerjs"
        public var aliveTimeoutMillis: Int64 = 60_000
        public var expireTimeoutMillis: Int64 = 5_000
        public var concurrentLimit = 5_000
        public var maxQueuedPerPeer = 64
        public init() {}
    }

    /// What the transport must do after an event.
    public enum Action: Sendable, Equatable {
        case send(Connection, PeerJSMessage)
        case close(Connection)
    }

    private struct Client: Sendable {
        var token: String
        var connection: Connection
        var lastHeartbeat: Int64
    }

    private struct Queued: Sendable {
        var message: PeerJSMessage
        var sender: String
    }

    public let settings: Settings
    private var clients: [String: Client] = [:]
    private var peerOfConnection: [Connection: String] = [:]
    private var queues: [String: (lastRead: Int64, messages: [Queued])] = [:]

    public init(settings: Settings = Settings()) { self.settings = settings }

    public var registeredIDs: [String] { clients.keys.sorted() }

    /// A WebSocket arrived at `{path}peerjs?key=&id=&token=`.
    public mutating func connect(_ connection: Connection, key: String?, id: String?, token: String?,
                                 now: Int64) -> [Action] {
        guard let id, !id.isEmpty, let token, !token.isEmpty, let key, !key.isEmpty else {
            return reject(connection, "No id, token, or key supplied to websocket server")
        }
        guard key == settings.key else { return reject(connection, "Invalid key provided") }
        if let existing = clients[id] {
            guard existing.token == token else {
                return [.send(connection, PeerJSMessage(type: .idTaken, payload: ["msg": "ID is taken"])),
                        .close(connection)]
            }
            // Same token: the new socket silently replaces the old one; no OPEN (as the official server).
            peerOfConnection[existing.connection] = nil
            clients[id] = Client(token: token, connection: connection, lastHeartbeat: now)
            peerOfConnection[connection] = id
            return [.close(existing.connection)] + flushQueue(for: id, now: now)
        }
        guard clients.count < settings.concurrentLimit else {
            return reject(connection, "Server has reached its concurrent user limit")
        }
        clients[id] = Client(token: token, connection: connection, lastHeartbeat: now)
        peerOfConnection[connection] = id
        return [.send(connection, PeerJSMessage(type: .open))] + flushQueue(for: id, now: now)
    }

    /// A text frame arrived on a registered socket.
    public mutating func receive(_ message: PeerJSMessage, from connection: Connection, now: Int64) -> [Action] {
        guard let src = peerOfConnection[connection] else { return [] }
        switch message.type {
        case .heartbeat:
            clients[src]?.lastHeartbeat = now
            return []
        case .leave where message.dst == nil:
            clients[src] = nil
            peerOfConnection[connection] = nil
            return []
        case .offer, .answer, .candidate, .leave, .expire:
            guard let dst = message.dst else { return [] }
            let forwarded = PeerJSMessage(type: message.type, src: src, dst: dst, payload: message.payload)
            if let target = clients[dst] {
                return [.send(target.connection, forwarded)]
            }
            if message.type == .leave || message.type == .expire { return [] }
            var queue = queues[dst] ?? (lastRead: now, messages: [])
            guard queue.messages.count < settings.maxQueuedPerPeer else { return [] }
            queue.messages.append(Queued(message: forwarded, sender: src))
            queues[dst] = queue
            return []
        default:
            return [] // the official server ignores every other type
        }
    }

    /// A frame could not be delivered: `connection` is dead (closed under us, or it stopped reading). As the
    /// official server does when a send throws: the socket is closed and unregistered, and the sender of a
    /// forwarded OFFER/ANSWER/CANDIDATE gets `{"type":"LEAVE","src":<dead id>,"dst":<sender>}`.
    public mutating func deliveryFailed(_ connection: Connection, _ message: PeerJSMessage) -> [Action] {
        guard let dead = peerOfConnection.removeValue(forKey: connection) else { return [.close(connection)] }
        if clients[dead]?.connection == connection { clients[dead] = nil }
        var actions: [Action] = [.close(connection)]
        if [.offer, .answer, .candidate].contains(message.type), let sender = message.src, sender != dead,
           let senderClient = clients[sender] {
            actions.append(.send(senderClient.connection, PeerJSMessage(type: .leave, src: dead, dst: sender)))
        }
        return actions
    }

    /// The socket closed: its ID is free at once (nobody is told, as upstream).
    public mutating func disconnect(_ connection: Connection) {
        guard let id = peerOfConnection.removeValue(forKey: connection) else { return }
        if clients[id]?.connection == connection { clients[id] = nil }
    }

    /// Run about once a second: expire old queues (EXPIRE to each sender) and drop silent clients.
    public mutating func sweep(now: Int64) -> [Action] {
        var actions: [Action] = []
        for (dst, queue) in queues where now - queue.lastRead >= settings.expireTimeoutMillis {
            queues[dst] = nil
            var told = Set<String>()
            for item in queue.messages where !told.contains(item.sender) {
                told.insert(item.sender)
                if let sender = clients[item.sender] {
                    actions.append(.send(sender.connection, PeerJSMessage(type: .expire, src: dst, dst: item.sender)))
                }
            }
        }
        for (id, client) in clients where now - client.lastHeartbeat > settings.aliveTimeoutMillis {
            clients[id] = nil
            peerOfConnection[client.connection] = nil
            actions.append(.close(client.connection))
        }
        return actions
    }

    private func reject(_ connection: Connection, _ text: String) -> [Action] {
        [.send(connection, PeerJSMessage(type: .error, payload: ["msg": .string(text)])), .close(connection)]
    }

    private mutating func flushQueue(for id: String, now: Int64) -> [Action] {
        guard let queue = queues.removeValue(forKey: id), let client = clients[id] else { return [] }
        return queue.messages.map { .send(client.connection, $0.message) }
    }
}
