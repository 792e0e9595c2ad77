/// `ws://host:port/path` or `wss://…`, the only URLs the signaling client dials.
public struct WebSocketURL: Sendable, Equatable, CustomStringConvertible {
    public var secure: Bool
    public var host: String
    public var port: Int
    /// Starts and ends with "/": the PeerJS `path` option, normalised as the official client does.
    public var path: String

    public init(secure: Bool, host: String, port: Int, path: String) {
        self.secure = secure; self.host = host; self.port = port
        var p = path.hasPrefix("/") ? path : "/" + path
        if !p.hasSuffix("/") { p += "/" }
        self.path = p
    }

    /// What `--signaling` takes, for error messages.
    public static let expectedForm = "ws[s]://host[:port][/path], path being PeerServer's `path` option, with or without the /peerjs it ends in"

    /// Parses `ws[s]://host[:port][/path]`; `http(s)` is accepted as a synonym. A path ending in `/peerjs` is
    /// taken as the WebSocket endpoint itself (the URL PeerServer's docs show): the client adds `peerjs` again,
    /// so it is dropped here.
    public init(parsing text: String) throws(SignalingError) {
        let schemes: [(String, Bool)] = [("wss://", true), ("ws://", false), ("https://", true), ("http://", false)]
        guard let (prefix, secure) = schemes.first(where: { text.hasPrefix($0.0) }) else {
            throw SignalingError(.invalidURL, "\(text): expected ws://, wss://, http:// or https://")
        }
        if text.contains("?") || text.contains("#") {
            throw SignalingError(.invalidURL, "\(text): no query or fragment, please (the client adds key, id and token); expected \(Self.expectedForm)")
        }
        let rest = text.dropFirst(prefix.count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = slash < rest.endIndex ? String(rest[slash...]) : "/"
        for endpoint in ["/peerjs", "/peerjs/"] where path.hasSuffix(endpoint) {
            path = String(path.dropLast(endpoint.count - 1))
        }
        var host = String(authority)
        var port = secure ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw SignalingError(.invalidURL, "\(text): bad port")
            }
            port = p
            host = String(authority[..<colon])
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw SignalingError(.invalidURL, "\(text): no host") }
        self.init(secure: secure, host: host, port: port, path: path)
    }

    public var description: String { "\(secure ? "wss" : "ws")://\(host):\(port)\(path)" }
}
