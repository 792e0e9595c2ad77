/// A browser paired with the door (docs/pairing.md): the device rings its stable peer ID on every
/// ring, and the page proves itself with `credential` (HMAC over the data connection's DTLS fingerprints).
/// Stored in `pairings.json` (`PairingStore`); `credential` never leaves that file and the pairing reply.
public struct Pairing: Sendable, Equatable, Codable {
    /// The page's Web Push subscription (`PushSubscription.toJSON()`): endpoint and keys.
    public struct Push: Sendable, Equatable, Codable {
        public var endpoint: String
        public var p256dh: String
        public var auth: String
        public init(endpoint: String, p256dh: String, auth: String) {
            self.endpoint = endpoint; self.p256dh = p256dh; self.auth = auth
        }

        /// An https endpoint without spaces or fragment, a 65-byte P-256 point and a 16-byte auth secret.
        public var isValid: Bool {
            endpoint.hasPrefix("https://") && !endpoint.contains(" ") && !endpoint.contains("#")
                && endpoint.utf8.count <= 2048 && Base64URL.decode(p256dh)?.count == 65 && Base64URL.decode(auth)?.count == 16
        }
    }

    public static let credentialBytes = 32
    public static let maxNameLength = 40

    /// Ours, 16 hex digits: what `ctl unpair` takes and the page keeps.
    public var id: String
    /// What the person called the browser ("Chrome on Android").
    public var name: String
    /// The page's stable peer ID (`<prefix>hh-<32 hex>`), registered while the page is open.
    public var peerId: String
    /// 32 random bytes, base64url: the key of the page's hello MAC and the device's ring reply MAC.
    public var credential: String
    public var createdAt: Int64
    /// The last time the page proved itself on a ring link.
    public var lastSeenAt: Int64?
    /// Whether the page answered the last ring's data connection (nil before the first ring).
    public var onlineAtLastRing: Bool?
    public var push: Push?

    public init(id: String, name: String, peerId: String, credential: String, createdAt: Int64,
                lastSeenAt: Int64? = nil, onlineAtLastRing: Bool? = nil, push: Push? = nil) {
        self.id = id; self.name = name; self.peerId = peerId; self.credential = credential
        self.createdAt = createdAt; self.lastSeenAt = lastSeenAt; self.onlineAtLastRing = onlineAtLastRing
        self.push = push
    }

    /// A new pairing with a fresh id and credential; `name` cleaned up as a caller's name is.
    public static func make(name: String, peerId: String, now: Int64) -> Pairing {
        let hex = RandomBytes.make(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return Pairing(id: hex, name: cleanName(name), peerId: peerId,
                       credential: Base64URL.encode(RandomBytes.make(credentialBytes)), createdAt: now)
    }

    /// Printable text of at most 40 characters; "Browser" when nothing is left.
    public static func cleanName(_ raw: String) -> String {
        let cleaned = raw.unicodeScalars.filter { !$0.properties.generalCategory.isControlOrFormat }
        let text = String(String.UnicodeScalarView(cleaned)).trimmingWhitespace()
        guard !text.isEmpty else { return "Browser" }
        return text.count > maxNameLength ? String(text.prefix(maxNameLength - 1)) + "…" : text
    }

    /// A PeerJS ID a page may register: 1-100 of `A-Z a-z 0-9 - _`, not starting or ending with `-`/`_`.
    public static func isValidPeerID(_ id: String) -> Bool {
        let chars = Array(id.utf8)
        guard (1...100).contains(chars.count) else { return false }
        func word(_ c: UInt8) -> Bool { (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) }
        guard word(chars[0]), word(chars[chars.count - 1]) else { return false }
        return chars.allSatisfy { word($0) || $0 == 45 || $0 == 95 }
    }

    /// The decoded credential bytes (the MAC key); nil when the stored text is not 32 bytes of base64url.
    public var credentialKey: [UInt8]? {
        guard let bytes = Base64URL.decode(credential), bytes.count == Self.credentialBytes else { return nil }
        return bytes
    }

    /// Why this stored pairing cannot be used, or nil when it can.
    public var problem: String? {
        if id.isEmpty || id.count > 32 || !id.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit }) { return "bad id" }
        if name.isEmpty || name.count > Self.maxNameLength { return "bad name" }
        if !Self.isValidPeerID(peerId) { return "bad peerId" }
        if credentialKey == nil { return "bad credential" }
        if let push, !push.isValid { return "bad push subscription" }
        return nil
    }
}
