/// One entry of an RTCPeerConnection's `iceServers` with its credential already resolved (a fixed one, or one
/// the door minted from a shared secret): what the page is given and what webrtcbin is told.
public struct ICEServer: Sendable, Equatable {
    /// `stun:…`, `turn:…` or `turns:…`, as browsers spell them.
    public var url: String
    public var username: String?
    public var credential: String?

    public init(url: String, username: String? = nil, credential: String? = nil) {
        self.url = url
        self.username = username
        self.credential = credential
    }

    /// `{"urls": …, "username": …, "credential": …}` as `RTCIceServer`.
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["urls": .string(url)]
        if let username { object["username"] = .string(username) }
        if let credential { object["credential"] = .string(credential) }
        return .object(object)
    }

    /// The GStreamer form webrtcbin's `stun-server` / `add-turn-server` take: `stun://host:port`,
    /// `turn(s)://user:pass@host:port[?transport=tcp]`. libnice's webrtcbin transport parses the URI without
    /// unescaping, splits the userinfo at its first ':' and then percent-decodes user and password, so both
    /// are percent-encoded here: a REST username (`<expiry>:<name>`) keeps its ':' and a base64 password its '/'
    /// and '+'. nil for a URL that `Configuration.iceEndpoint` does not accept.
    public var gstreamerURI: String? {
        let schemes = ["stun:", "turn:", "turns:"]
        guard let e = Configuration.iceEndpoint(url, schemes: schemes, transports: ["udp", "tcp"]) else { return nil }
        let isTURN = e.scheme != "stun:"
        let defaultPort = e.scheme == "turns:" ? 5349 : 3478
        var uri = e.scheme + "//"
        if isTURN {
            uri += Self.percentEncoded(username ?? "") + ":" + Self.percentEncoded(credential ?? "") + "@"
        }
        uri += e.host + ":\(e.port ?? defaultPort)"
        if isTURN, let transport = e.transport { uri += "?transport=" + transport }
        return uri
    }

    /// Everything but RFC 3986's unreserved characters as %XX.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII, c.isLetter || c.isNumber || "-._~".contains(c) {
                out.append(c)
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
