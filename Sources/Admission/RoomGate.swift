import DoorCore

/// The cheap gate every OFFER passes before anything else is done for it (docs/security.md#the-join-scheme, step 4),
/// for one open room: limits first (sizes, offers per peer, knocks per minute), then the proof.
///
/// The room has two peer IDs on the signaling server:
/// * the **room peer ID**, `prefix` + 26 base32 characters derived from the secret (`RoomKeys`): only a
///   holder of the link knows it, so there is nothing to enumerate or squat. Offers there may prove the secret.
/// * the **knock peer ID**, `prefix` + the 5-digit code: for people who type the code. Whatever arrives there
///   is at most a knock, and knocks are limited per caller and per minute across all callers (`KnockLimiter`).
///
/// Pure: time is passed in, nothing is sent. The device drops what `admit` refuses without a word, except a
/// knock over its limit (`knockLimited`), which is told.
public struct RoomGate: Sendable {
    public enum Door: String, Sendable { case room, knock }

    public enum Verdict: Sendable, Equatable {
        case proved
        case knock
        /// A knock over the knock limits: refused with a reply (the caller learns nothing it did not know: it
        /// reached this ID, and knocks carry no secret).
        case knockLimited
        /// Drop silently. `reason` is a fixed word for counters (never caller data).
        case drop(reason: String)
    }

    public struct Limits: Sendable, Equatable {
        /// Offers from one peer (either door) per `peerWindowMillis`.
        public var offersPerPeer = 5
        public var peerWindowMillis: Int64 = 10_000
        /// Knocks (offers without a proof, either door), per caller and from everyone together.
        public var knocks = KnockLimiter.Limits()
        /// Offers to the room peer ID from everyone together per minute; only someone who learned the
        /// derived ID (the signaling server) can send these, and a wrong MAC costs one HMAC.
        public var roomOffersPerMinute = 600
        /// `metadata` as JSON text.
        public var maxMetadataBytes = 1024
        public var maxSDPBytes = RoomVerifier.maxSDPBytes
        public init() {}
    }

    public let code: String
    public let roomPeerID: String
    public let knockPeerID: String
    public let limits: Limits
    private var verifier: RoomVerifier
    private var perPeer: RateLimiter<String>
    private var knocks: KnockLimiter
    private var roomOffers: RateLimiter<Int>
    /// The nonce of each proved call, for its answer's MAC.
    private var nonces: [CallStateMachine.CallID: String] = [:]
    /// Why offers were dropped, by reason; plus how many were proved or knocked.
    public private(set) var counts: [String: Int] = [:]

    public init(link: RoomLink, prefix: String, limits: Limits = Limits()) {
        let keys = RoomKeys(secret: link.secret)
        code = link.code
        roomPeerID = keys.roomPeerID(prefix: prefix)
        knockPeerID = prefix + link.code
        self.limits = limits
        verifier = RoomVerifier(keys: keys, roomPeerID: roomPeerID)
        perPeer = RateLimiter(limit: limits.offersPerPeer, windowMillis: limits.peerWindowMillis)
        knocks = KnockLimiter(limits: limits.knocks)
        roomOffers = RateLimiter(limit: limits.roomOffersPerMinute, windowMillis: 60_000)
    }

    public func door(of peerID: String) -> Door? {
        peerID == roomPeerID ? .room : peerID == knockPeerID ? .knock : nil
    }

    public mutating func admit(_ offer: JoinOffer, now: Int64) -> Verdict {
        let verdict = decide(offer, now: now)
        switch verdict {
        case .proved: counts["proved", default: 0] += 1
        case .knock: counts["knock", default: 0] += 1
        case .knockLimited: counts["knock-limited", default: 0] += 1
        case .drop(let reason): counts[reason, default: 0] += 1
        }
        return verdict
    }

    private mutating func decide(_ offer: JoinOffer, now: Int64) -> Verdict {
        guard let door = door(of: offer.addressedTo) else { return .drop(reason: "not addressed to this room") }
        guard offer.sdp.utf8.count <= limits.maxSDPBytes else { return .drop(reason: "oversized") }
        if let metadata = offer.metadata, Self.size(of: metadata, depth: 0) > limits.maxMetadataBytes {
            return .drop(reason: "oversized")
        }
        guard perPeer.allow(offer.call.peer, now: now) else { return .drop(reason: "rate-limited") }
        if door == .room, !roomOffers.allow(0, now: now) { return .drop(reason: "rate-limited") }
        switch verifier.verify(offer) {
        case .valid:
            if let nonce = RoomVerifier.nonce(in: offer.metadata) { nonces[offer.call] = nonce }
            return .proved
        case .invalid:
            return .drop(reason: "bad proof")
        case .absent:
            return knocks.admit(sender: offer.call.peer, now: now) == .allow ? .knock : .knockLimited
        }
    }

    /// The `payload.proof` for the ANSWER to a proved call; nil for a knock (it has no secret to check it with).
    public func answerProof(call: CallStateMachine.CallID, offerSDP: String, answerSDP: String) -> JSONValue? {
        guard let nonce = nonces[call] else { return nil }
        return verifier.answerProof(call: call, nonce: nonce, offerSDP: offerSDP, answerSDP: answerSDP)
    }

    /// About the JSON text's length (strings counted in UTF-8 bytes); deeper than 4 levels counts as too big.
    static func size(of value: JSONValue, depth: Int) -> Int {
        guard depth <= 4 else { return .max / 2 }
        switch value {
        case .null, .bool, .number: return 8
        case .string(let s): return s.utf8.count + 2
        case .array(let items): return items.reduce(2) { min(.max / 2, $0 + 1 + size(of: $1, depth: depth + 1)) }
        case .object(let fields):
            return fields.reduce(2) { min(.max / 2, $0 + $1.key.utf8.count + 4 + size(of: $1.value, depth: depth + 1)) }
        }
    }

    public var dropped: Int { counts.filter { $0.key != "proved" && $0.key != "knock" }.values.reduce(0, +) }
}
