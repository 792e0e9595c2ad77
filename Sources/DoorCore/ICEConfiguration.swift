/// The `ice:` section: the STUN and TURN servers every peer connection of the door uses, and that the page is
/// given. A TURN server has either a fixed username and credential, or coturn's shared secret
/// (`use-auth-secret`), from which the door mints short-lived credentials (`TURNCredential` in Admission).
extension Configuration {
    public struct ICE: Sendable, Equatable {
        /// `stun:host[:port]` URLs.
        public var stunServers: [String] = []
        public var turnServers: [TURNServer] = []
        /// How long the door and the page wait for a working candidate pair before they give up on a call.
        public var connectTimeoutSeconds = 20
        public init() {}

        public var isEmpty: Bool { stunServers.isEmpty && turnServers.isEmpty }
    }

    public struct TURNServer: Sendable, Equatable {
        public enum Auth: Sendable, Equatable {
            /// A fixed long-term credential, given to the page as it is.
            case fixed(username: String, credential: String)
            /// The TURN REST convention: the page gets `<expiry>:<name>` and base64(HMAC-SHA1(secret, username)),
            /// valid for `lifetimeSeconds`; the secret stays on the door.
            case sharedSecret(String, lifetimeSeconds: Int)
        }
        /// `turn:host[:port][?transport=udp|tcp]` or `turns:host[:port][?transport=tcp]`, as browsers spell it.
        public var url: String
        public var auth: Auth
        public init(url: String, auth: Auth) { self.url = url; self.auth = auth }
    }

    static let iceKeys = ["stun_servers", "turn_servers", "connect_timeout"]
    /// coturn's default credential lifetime is one day; a room lives at most an hour.
    static let turnLifetimeRange = 60...86_400

    mutating func readICE(_ s: ConfigSection) throws(ConfigurationError) {
        if let seconds = try s.int("connect_timeout", in: 5...120, unit: "seconds") { ice.connectTimeoutSeconds = seconds }
        for (index, item) in try Self.list(s, "stun_servers", what: "a list of stun: URLs").enumerated() {
            let key = s.key("stun_servers") + "[\(index)]"
            guard case .scalar(let url, _) = item.value else {
                throw ConfigurationError(.wrongType, key: key, line: item.line, "must be a stun: URL, not \(item.kindName)")
            }
            guard Self.iceEndpoint(url, schemes: ["stun:"], transports: []) != nil else {
                throw ConfigurationError(.badValue, key: key, line: item.line,
                                         "must be stun:HOST or stun:HOST:PORT (e.g. stun:stun.example.net:3478), not '\(url)'")
            }
            ice.stunServers.append(url)
        }
        for (index, item) in try Self.list(s, "turn_servers", what: "a list of TURN servers (- url: turn:…)").enumerated() {
            ice.turnServers.append(try Self.readTURN(item, path: s.key("turn_servers") + "[\(index)]"))
        }
    }

    private static func list(_ s: ConfigSection, _ name: String, what: String) throws(ConfigurationError) -> [ConfigNode] {
        guard let node = s.node(name) else { return [] }
        guard case .sequence(let items) = node.value else {
            throw ConfigurationError(.wrongType, key: s.key(name), line: s.line(name), "must be \(what), not \(node.kindName)")
        }
        return items
    }

    private static func readTURN(_ node: ConfigNode, path: String) throws(ConfigurationError) -> TURNServer {
        let s = try ConfigSection(node, path: path, keys: ["url", "username", "credential", "shared_secret", "lifetime"])
        guard let url = try s.string("url") else {
            throw ConfigurationError(.badValue, key: s.key("url"), line: s.line, "is required: turn:HOST:PORT or turns:HOST:PORT")
        }
        guard let endpoint = iceEndpoint(url, schemes: ["turn:", "turns:"], transports: ["udp", "tcp"]) else {
            throw s.fail("url", "must be turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT][?transport=tcp], not '\(url)'")
        }
        if endpoint.scheme == "turns:", endpoint.transport == "udp" {
            throw s.fail("url", "turns: runs over TLS, which is TCP: drop ?transport=udp")
        }
        let username = try s.string("username"), credential = try s.string("credential")
        let secret = try s.string("shared_secret")
        if let secret {
            for name in ["username", "credential"] where s.node(name) != nil {
                throw s.fail(name, "is not used with shared_secret (the door mints a username and credential from it)")
            }
            guard secret.count >= 16, isPrintable(secret) else {
                throw s.fail("shared_secret", "must be at least 16 printable characters with no spaces "
                             + "(coturn's static-auth-secret)")
            }
            let lifetime = try s.int("lifetime", in: turnLifetimeRange, unit: "seconds") ?? 3600
            return TURNServer(url: url, auth: .sharedSecret(secret, lifetimeSeconds: lifetime))
        }
        if s.node("lifetime") != nil { throw s.fail("lifetime", "is only for shared_secret (fixed credentials do not expire)") }
        guard let username else {
            throw ConfigurationError(.badValue, key: s.key("username"), line: s.line,
                                     "is required: give username and credential, or shared_secret")
        }
        guard let credential else {
            throw ConfigurationError(.badValue, key: s.key("credential"), line: s.line("username"),
                                     "is required with username")
        }
        for (name, value) in [("username", username), ("credential", credential)] where !isPrintable(value) {
            throw s.fail(name, "must be printable ASCII with no spaces")
        }
        return TURNServer(url: url, auth: .fixed(username: username, credential: credential))
    }

    private static func isPrintable(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && !$0.isWhitespace && !$0.isNewline && $0 != "\0" }
    }

    /// The parts of a `stun:`/`turn:`/`turns:` URL (RFC 7064/7065): host, optional port, optional transport.
    /// nil when it is not one of `schemes`, has no host, a bad port, or a transport not in `transports`.
    public static func iceEndpoint(_ url: String, schemes: [String], transports: [String])
        -> (scheme: String, host: String, port: Int?, transport: String?)? {
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }) else { return nil }
        var rest = Substring(url.dropFirst(scheme.count))
        var transport: String?
        if let question = rest.firstIndex(of: "?") {
            let query = rest[rest.index(after: question)...]
            guard query.hasPrefix("transport="), transports.contains(String(query.dropFirst("transport=".count))) else {
                return nil
            }
            transport = String(query.dropFirst("transport=".count))
            rest = rest[..<question]
        }
        var host = rest, port: Int?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[...close]
            let tail = rest[rest.index(after: close)...]
            if !tail.isEmpty {
                guard tail.hasPrefix(":"), let p = Int(tail.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            host = rest[..<colon]
            port = p
        }
        if let port, !(1...65535).contains(port) { return nil }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.:[]".contains($0)) }) else {
            return nil
        }
        return (scheme, String(host), port, transport)
    }
}
