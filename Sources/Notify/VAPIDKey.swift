import Crypto
import FoundationEssentials
import DoorCore

/// The device's application-server key for Web Push (VAPID, RFC 8292): a P-256 key made once and kept in
/// the state directory (`vapid-key`, mode 0600, written atomically). Browsers subscribe with its public half;
/// every push carries a short-lived ES256 JWT signed with the private half, so a push service delivers only
/// what this device sent.
public struct VAPIDKey {
    public let privateKey: P256.Signing.PrivateKey

    public init(privateKey: P256.Signing.PrivateKey) { self.privateKey = privateKey }

    /// The uncompressed public point, base64url: what a page passes as `applicationServerKey`.
    public var publicKeyText: String { Base64URL.encode(Array(privateKey.publicKey.x963Representation)) }

    /// The key in `directory/vapid-key`, made there first when it does not exist (or is damaged).
    public static func loadOrCreate(stateDirectory directory: String) throws(NotifyError) -> VAPIDKey {
        let path = directory + "/vapid-key"
        if let bytes = AtomicFile.read(path, limit: 4096),
           let raw = Base64URL.decode(String(decoding: bytes, as: UTF8.self).trimmingNewline),
           let key = try? P256.Signing.PrivateKey(rawRepresentation: raw) {
            return VAPIDKey(privateKey: key)
        }
        let key = P256.Signing.PrivateKey()
        do {
            try AtomicFile.write(Array((Base64URL.encode(Array(key.rawRepresentation)) + "\n").utf8), to: path, mode: 0o600)
        } catch {
            throw NotifyError(.setup, "cannot keep the Web Push key: \(error)")
        }
        Log.info("notify", "made a new Web Push (VAPID) key in \(path)")
        return VAPIDKey(privateKey: key)
    }

    /// The `Authorization` header for a push to `endpoint`: `vapid t=<JWT>, k=<public key>` (RFC 8292 §3).
    /// - Parameters:
    ///   - subject: a `mailto:` or `https:` contact for the push service's operator.
    ///   - expiresAt: seconds since the epoch; push services refuse more than 24 hours ahead.
    public func authorization(endpoint: String, subject: String, expiresAt: Int64) throws(NotifyError) -> String {
        let header = Base64URL.encode(Array(#"{"typ":"JWT","alg":"ES256"}"#.utf8))
        let claims: JSONValue = ["aud": .string(Self.origin(of: endpoint)), "exp": .number(Double(expiresAt)),
                                 "sub": .string(subject)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let payload = try? encoder.encode(claims) else { throw NotifyError(.setup, "JWT claims") }
        let signingInput = header + "." + Base64URL.encode(Array(payload))
        let signature: P256.Signing.ECDSASignature
        do { signature = try privateKey.signature(for: Array(signingInput.utf8)) } catch {
            throw NotifyError(.setup, "ES256 signing failed: \(error)")
        }
        return "vapid t=\(signingInput).\(Base64URL.encode(Array(signature.rawRepresentation))), k=\(publicKeyText)"
    }

    /// `https://push.example.net/wpush/v2/…` → `https://push.example.net` (the JWT's audience).
    static func origin(of url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(url[..<schemeEnd.upperBound]) + authority
    }
}

extension String {
    var trimmingNewline: String {
        var text = self
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }
}
