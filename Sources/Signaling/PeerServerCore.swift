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
        /// How long the ID of an `exempt` client (the door's own) whose socket dropped (closed, dead, silent)
        /// stays reserved for its token: another token gets ID-TAKEN meanwhile, so a stranger cannot take a
        /// door's ID in the moment it reconnects. Other IDs are free at once, as on the official server (a
        /// page that reloads comes back with a new token); a LEAVE always frees an ID at once.
        public var reclaimGraceMillis: Int64 = 0
        /// Bytes of queued frames (for absent peers) in all, and from one sender: a stranger sending large
        /// frames to many absent IDs cannot grow the server without bound.
        public var maxQueuedBytes = 8 << 20
        public var maxQueuedBytesPerSender = 512 << 10
        /// IDs anyone can guess (the door's room-code IDs: a prefix and five digits). Whether such an ID exists
        /// must not show: an absent one answers EXPIRE, so a present one that stays silent would give the room
        /// away to someone probing all codes. Each sender (address) may reach `guessableIDsPerSender` distinct
        /// ones per window; past that, frames to present ones are not delivered but expire exactly as frames
        /// to absent ones do. nil: no such IDs (the official server).
        public var guessableIDs: GuessableIDs?
        public var guessableIDsPerSender = 6
        public var guessableIDWindowMillis: Int64 = 10 * 60_000
        /// Knocks one sender (address) may make on guessable IDs per minute, a knock being a distinct (peer ID,
        /// room ID) pair that sends OFFERs: a caller's call and its chat connection are one knock, not two.
        /// Past that they are held and expired like probes. A caller with one ID who keeps offering meets the
        /// door's own per-caller knock limit (3) and hears "limited"; this keeps one address with many IDs from
        /// using up everyone's knocks.
        public var guessableOffersPerSenderPerMinute = 4
        public init() {}
    }

    /// `prefix` followed by exactly `digits` ASCII digits.
    public struct GuessableIDs: Sendable, Equatable {
        public var prefix: String
        public var digits: Int
        public init(prefix: String, digits: Int = 5) { self.prefix = prefix; self.digits = digits }

        public func matches(_ id: String) -> Bool {
            guard id.hasPrefix(prefix) else { return false }
            let rest = id.utf8.dropFirst(prefix.utf8.count)
            return rest.count == digits && rest.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
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
        /// Registered with `exempt` (the door's own client): its ID is kept for the reclaim grace.
        var exempt = false
        /// Whom the guessable-ID budget counts this client as (its address; its ID when none was given).
        var sender: String = ""
    }

    private struct Queued: Sendable {
        var message: PeerJSMessage
        var sender: String
        var bytes: Int
    }

    public let settings: Settings
    private var clients: [String: Client] = [:]
    private var peerOfConnection: [Connection: String] = [:]
    /// Frames held for absent peers, by destination. A `decoy` queue holds frames to a present guessable ID
    /// from a sender over its budget: expired like the others, never delivered, so the sender sees what it
    /// would see for an absent ID.
    private struct QueueKey: Hashable, Sendable {
        var dst: String
        var decoy = false
    }
    private var queues: [QueueKey: (lastRead: Int64, messages: [Queued])] = [:]
    private var guessed: DistinctLimiter<String, String>
    private var knocked: DistinctLimiter<String, Knock>
    /// Who knocked on which room ID (see `Settings.guessableOffersPerSenderPerMinute`).
    private struct Knock: Hashable, Sendable {
        var src: String
        var dst: String
    }
    /// IDs in their reclaim grace: the token that held them and until when.
    private var reserved: [String: (token: String, until: Int64)] = [:]
    private var queuedBytes = 0
    private var queuedBytesBySender: [String: Int] = [:]

    /// Bytes held in queues for absent peers (for tests and the bench).
    public var queuedByteCount: Int { queuedBytes }

    public init(settings: Settings = Settings()) {
        self.settings = settings
        guessed = DistinctLimiter(limit: settings.guessableIDsPerSender, windowMillis: settings.guessableIDWindowMillis)
        knocked = DistinctLimiter(limit: settings.guessableOffersPerSenderPerMinute, windowMillis: 60_000)
    }

    public var registeredIDs: [String] { clients.keys.sorted() }

    /// A WebSocket arrived at `{path}peerjs?key=&id=&token=`.
    /// `exempt`: not held to `concurrentLimit` (the door's own clients on its built-in server). `sender`: whom
    /// the guessable-ID budget counts (the socket's address); nil counts the ID.
    public mutating func connect(_ connection: Connection, key: String?, id: String?, token: String?,
                                 now: Int64, exempt: Bool = false, sender: String? = nil) -> [Action] {
        guard let id, !id.isEmpty, let token, !token.isEmpty, let key, !key.isEmpty else {
            return reject(connection, "No id, token, or key supplied to websocket server")
        }
        guard key == settings.key else { return reject(connection, "Invalid key provided") }
        if let held = reserved[id] {
            if now >= held.until || held.token == token {
                reserved[id] = nil
            } else {
                return [.send(connection, PeerJSMessage(type: .idTaken, payload: ["msg": "ID is taken"])),
                        .close(connection)]
            }
        }
        if let existing = clients[id] {
            guard existing.token == token else {
                return [.send(connection, PeerJSMessage(type: .idTaken, payload: ["msg": "ID is taken"])),
                        .close(connection)]
            }
            // Same token: the new socket silently replaces the old one; no OPEN (as the official server).
            peerOfConnection[existing.connection] = nil
            clients[id] = Client(token: token, connection: connection, lastHeartbeat: now, exempt: exempt,
                                 sender: sender ?? id)
            peerOfConnection[connection] = id
            return [.close(existing.connection)] + flushQueue(for: id, now: now)
        }
        guard exempt || clients.count < settings.concurrentLimit else {
            return reject(connection, "Server has reached its concurrent user limit")
        }
        clients[id] = Client(token: token, connection: connection, lastHeartbeat: now, exempt: exempt,
                             sender: sender ?? id)
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
            let forwarded = PeerJSMessage(type: message.type, src: src, dst: dst, payload: message.payload,
                                          payloadText: message.payloadText)
            let decoy = overGuessBudget(message.type, src, dst, now: now)
            if let target = clients[dst], !decoy {
                return [.send(target.connection, forwarded)]
            }
            if message.type == .leave || message.type == .expire { return [] }
            enqueue(forwarded, src: src, key: QueueKey(dst: dst, decoy: clients[dst] != nil), now: now)
            return []
        default:
            return [] // the official server ignores every other type
        }
    }

    /// Whether a frame from `src` to `dst` must not be delivered: `dst` is guessable and `src`'s sender has
    /// reached other guessable IDs up to its budget, or sent its OFFERs to them for this minute. Counted whether
    /// `dst` exists or not (a count of present IDs alone would itself tell). The door's own clients are not
    /// counted.
    private mutating func overGuessBudget(_ type: PeerJSMessage.Kind, _ src: String, _ dst: String,
                                          now: Int64) -> Bool {
        guard let guessable = settings.guessableIDs, guessable.matches(dst), let client = clients[src],
              !client.exempt else { return false }
        guard guessed.allow(client.sender, dst, now: now) else { return true }
        return type == .offer && !knocked.allow(client.sender, Knock(src: src, dst: dst), now: now)
    }

    /// Holds a frame for an absent peer, within the per-destination, per-sender and global bounds.
    private mutating func enqueue(_ forwarded: PeerJSMessage, src: String, key: QueueKey, now: Int64) {
        var queue = queues[key] ?? (lastRead: now, messages: [])
        guard queue.messages.count < settings.maxQueuedPerPeer else { return }
        let bytes = (forwarded.payloadText?.utf8.count ?? 0) + key.dst.utf8.count + src.utf8.count + 64
        let senderBytes = queuedBytesBySender[src, default: 0]
        guard queuedBytes + bytes <= settings.maxQueuedBytes,
              senderBytes + bytes <= settings.maxQueuedBytesPerSender else { return }
        queuedBytes += bytes
        queuedBytesBySender[src] = senderBytes + bytes
        queue.messages.append(Queued(message: forwarded, sender: src, bytes: bytes))
        queues[key] = queue
    }

    /// A frame could not be delivered: `connection` is dead (closed under us, or it stopped reading). As the
    /// official server does when a send throws: the socket is closed and unregistered, and the sender of a
    /// forwarded OFFER/ANSWER/CANDIDATE gets `{"type":"LEAVE","src":<dead id>,"dst":<sender>}`.
    public mutating func deliveryFailed(_ connection: Connection, _ message: PeerJSMessage, now: Int64 = 0) -> [Action] {
        guard let dead = peerOfConnection.removeValue(forKey: connection) else { return [.close(connection)] }
        if let client = clients[dead], client.connection == connection {
            clients[dead] = nil
            if client.exempt { reserve(dead, token: client.token, now: now) }
        }
        var actions: [Action] = [.close(connection)]
        if [.offer, .answer, .candidate].contains(message.type), let sender = message.src, sender != dead,
           let senderClient = clients[sender] {
            actions.append(.send(senderClient.connection, PeerJSMessage(type: .leave, src: dead, dst: sender)))
        }
        return actions
    }

    /// The socket closed: its ID is free once the reclaim grace is over (nobody is told, as upstream).
    public mutating func disconnect(_ connection: Connection, now: Int64 = 0) {
        guard let id = peerOfConnection.removeValue(forKey: connection) else { return }
        if let client = clients[id], client.connection == connection {
            clients[id] = nil
            if client.exempt { reserve(id, token: client.token, now: now) }
        }
    }

    private mutating func reserve(_ id: String, token: String, now: Int64) {
        guard settings.reclaimGraceMillis > 0 else { return }
        // Bounded like the registrations themselves; a full table lets the oldest reservation go.
        if reserved.count >= settings.concurrentLimit,
           let oldest = reserved.min(by: { $0.value.until < $1.value.until })?.key {
            reserved[oldest] = nil
        }
        reserved[id] = (token, now + settings.reclaimGraceMillis)
    }

    /// Run about once a second: expire old queues (EXPIRE to each sender) and drop silent clients.
    public mutating func sweep(now: Int64) -> [Action] {
        var actions: [Action] = []
        for (key, queue) in queues where now - queue.lastRead >= settings.expireTimeoutMillis {
            queues[key] = nil
            release(queue.messages)
            var told = Set<String>()
            for item in queue.messages where !told.contains(item.sender) {
                told.insert(item.sender)
                if let sender = clients[item.sender] {
                    actions.append(.send(sender.connection,
                                         PeerJSMessage(type: .expire, src: key.dst, dst: item.sender)))
                }
            }
        }
        for (id, client) in clients where now - client.lastHeartbeat > settings.aliveTimeoutMillis {
            clients[id] = nil
            peerOfConnection[client.connection] = nil
            if client.exempt { reserve(id, token: client.token, now: now) }
            actions.append(.close(client.connection))
        }
        for (id, held) in reserved where now >= held.until { reserved[id] = nil }
        return actions
    }

    private func reject(_ connection: Connection, _ text: String) -> [Action] {
        [.send(connection, PeerJSMessage(type: .error, payload: ["msg": .string(text)])), .close(connection)]
    }

    private mutating func flushQueue(for id: String, now: Int64) -> [Action] {
        guard let queue = queues.removeValue(forKey: QueueKey(dst: id)), let client = clients[id] else { return [] }
        release(queue.messages)
        return queue.messages.map { .send(client.connection, $0.message) }
    }

    private mutating func release(_ messages: [Queued]) {
        for item in messages {
            queuedBytes -= item.bytes
            let left = queuedBytesBySender[item.sender, default: 0] - item.bytes
            queuedBytesBySender[item.sender] = left > 0 ? left : nil
        }
    }
}
