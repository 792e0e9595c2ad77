import DoorCore

/// Limits on what peers may send a device through the signaling server (docs/security.md#limits): messages per
/// second per peer (a token bucket), SDP size and m-line count, candidates per connection, and concurrent
/// incoming connections. Pure bookkeeping: the owner asks `admit` for every message from a peer and drops
/// what is refused with a log line. Only connections the owner actually keeps count against the limit: it
/// calls `opened` when it keeps an offer, `release` when that connection ends, `reset` when the room goes —
/// so offers it throws away (forged, unproved) never take a slot from a real caller.
public struct SignalingLimits: Sendable {
    /// Remote ICE candidates taken per connection: what the limits let through, and what the door buffers for a
    /// connection whose session does not exist yet (a browser sends a dozen or two).
    public static let candidatesPerConnection = CandidateLimit.perConnection

    public struct Settings: Sendable, Equatable {
        /// Sustained messages per second per peer, and the burst allowed above it (a browser trickles a
        /// dozen candidates within a few milliseconds when a call starts).
        public var messagesPerSecond = 20
        public var burst = 60
        /// Whether OFFERs draw on the per-peer bucket too; off where an offer gate of its own limits them
        /// (the device's RoomGate allows a few per peer and counts what it turns away).
        public var rateLimitsOffers = true
        public var candidatesPerConnection = SignalingLimits.candidatesPerConnection
        public var maxSDPBytes = 32 * 1024
        public var maxMediaSections = 8
        /// Incoming connections (kept offers and live sessions) at once.
        public var maxConnections = 8
        /// Peers remembered for rate limiting; the least recently heard is forgotten beyond this.
        public var maxTrackedPeers = 256
        public init() {}
    }

    public enum Verdict: Sendable, Equatable {
        case accept
        case drop(String)
    }

    public struct ConnectionKey: Sendable, Hashable {
        public var peer: String
        public var connectionId: String
        public init(peer: String, connectionId: String) { self.peer = peer; self.connectionId = connectionId }
    }

    private struct Bucket: Sendable {
        var tokens: Double
        var lastRefill: Int64
    }

    public let settings: Settings
    private var buckets: [String: Bucket] = [:]
    private var connections: Set<ConnectionKey> = []
    private var candidates: [ConnectionKey: Int] = [:]

    public init(settings: Settings = Settings()) { self.settings = settings }

    public var openConnections: Int { connections.count }

    /// Whether `message` from a peer may be handled, at wall-clock `now` (milliseconds).
    public mutating func admit(_ message: PeerJSMessage, now: Int64) -> Verdict {
        guard let src = message.src, !src.isEmpty else { return .drop("no src") }
        if message.type != .offer || settings.rateLimitsOffers, !take(src, now: now) {
            return .drop("over \(settings.messagesPerSecond) messages/s from \(src)")
        }
        let connectionId = message.payload?["connectionId"]?.stringValue
        switch message.type {
        case .offer, .answer:
            guard let sdp = message.payload?["sdp"]?["sdp"]?.stringValue else { return .accept }
            if sdp.utf8.count > settings.maxSDPBytes {
                return .drop("SDP of \(sdp.utf8.count) bytes (limit \(settings.maxSDPBytes))")
            }
            let sections = Self.mediaSections(sdp)
            if sections > settings.maxMediaSections {
                return .drop("SDP with \(sections) m-lines (limit \(settings.maxMediaSections))")
            }
            guard message.type == .offer, let connectionId else { return .accept }
            let key = ConnectionKey(peer: src, connectionId: connectionId)
            // An OFFER for a connection already kept replaces it (PeerJS has no renegotiation): no new slot.
            guard connections.contains(key) || connections.count < settings.maxConnections else {
                return .drop("\(settings.maxConnections) connections already open")
            }
            return .accept
        case .candidate:
            guard let connectionId else { return .accept }
            let key = ConnectionKey(peer: src, connectionId: connectionId)
            let count = (candidates[key] ?? 0) + 1
            guard count <= settings.candidatesPerConnection else {
                return .drop("over \(settings.candidatesPerConnection) candidates for \(connectionId)")
            }
            // Counters for connections nobody released stay bounded too.
            if candidates[key] == nil, candidates.count >= settings.maxConnections * 4 {
                candidates.removeAll()
            }
            candidates[key] = count
            return .accept
        default:
            return .accept
        }
    }

    /// The owner keeps this incoming connection (an offer it will answer or hold): it counts from now.
    public mutating func opened(peer: String, connectionId: String) {
        connections.insert(ConnectionKey(peer: peer, connectionId: connectionId))
    }

    /// The connection ended (or was refused): it no longer counts.
    public mutating func release(peer: String, connectionId: String) {
        let key = ConnectionKey(peer: peer, connectionId: connectionId)
        connections.remove(key)
        candidates[key] = nil
    }

    public mutating func reset() {
        buckets.removeAll()
        connections.removeAll()
        candidates.removeAll()
    }

    private mutating func take(_ peer: String, now: Int64) -> Bool {
        var bucket = buckets[peer] ?? Bucket(tokens: Double(settings.burst), lastRefill: now)
        let elapsed = Double(max(0, now - bucket.lastRefill)) / 1000
        bucket.tokens = min(Double(settings.burst), bucket.tokens + elapsed * Double(settings.messagesPerSecond))
        bucket.lastRefill = now
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        if buckets[peer] == nil, buckets.count >= settings.maxTrackedPeers,
           let stalest = buckets.min(by: { $0.value.lastRefill < $1.value.lastRefill })?.key {
            buckets[stalest] = nil
        }
        buckets[peer] = bucket
        return allowed
    }

    /// `m=` lines in an SDP text.
    static func mediaSections(_ sdp: String) -> Int {
        sdp.utf8.split(separator: UInt8(ascii: "\n")).count { $0.starts(with: "m=".utf8) }
    }
}
