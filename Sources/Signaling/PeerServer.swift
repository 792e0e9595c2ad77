import Glibc
import DoorCore
import MainLoop

/// The built-in PeerJS-compatible signaling server and static web server, on the process's libwebsockets
/// context: `{path}peerjs` WebSocket, `{path}{key}/id`, `{path}` info, and the web client's files.
@GLibActor
public final class PeerServer: WebSocketServerHandler, WebSocketDelegate {
    public struct Settings: Sendable {
        public var path = "/"
        public var core = PeerServerCore<ObjectIdentifier>.Settings()
        /// Directory with index.html, served at "/" (nil: no web client).
        public var webRoot: String?
        /// `allow_discovery`: `GET {path}{key}/peers` lists the registered IDs; otherwise it answers 401.
        public var allowDiscovery = false
        /// The page's `config.json`, made per request (it may carry freshly minted TURN credentials); nil:
        /// the file in `webRoot`.
        public var pageConfiguration: (@Sendable () -> String)?
        public init() {}
    }

    private let settings: Settings
    private var core: PeerServerCore<ObjectIdentifier>
    private var sockets: [ObjectIdentifier: WebSocketConnection] = [:]
    private var sweepTimer: GLibTimer?
    private let files: StaticFiles?

    public init(host: WebSocketHost, settings: Settings) {
        var normalised = settings
        normalised.path = WebSocketURL(secure: false, host: "x", port: 1, path: settings.path).path
        self.settings = normalised
        core = PeerServerCore(settings: settings.core)
        files = settings.webRoot.map(StaticFiles.init(root:))
        host.serverHandler = self
        // The official server checks liveness every 300 ms (and queues every second; finer does no harm).
        sweepTimer = GLibTimer(milliseconds: 300, repeating: true) { [weak self] in self?.sweep() }
    }

    public var registeredIDs: [String] { core.registeredIDs }

    // MARK: HTTP

    public func handleHTTP(path: String) -> HTTPResponse {
        let prefix = settings.path
        // `{path}{key}/id` and `{path}{key}/peers`; like the official server, any key segment answers.
        let api = path.hasPrefix(prefix) ? path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false) : []
        if api.count == 2, !api[0].isEmpty, api[1] == "id" {
            return HTTPResponse(status: 200, contentType: "text/html", body: Array(Self.randomID().utf8),
                                headers: [("Access-Control-Allow-Origin", "*"), ("Cache-Control", "no-store")])
        }
        if api.count == 2, !api[0].isEmpty, api[1] == "peers" {
            guard settings.allowDiscovery else { return .text(401, "discovery is off\n") }
            let list = JSONValue.array(core.registeredIDs.map(JSONValue.string)).jsonText()
            return HTTPResponse(status: 200, contentType: "application/json", body: Array(list.utf8),
                                headers: [("Access-Control-Allow-Origin", "*"), ("Cache-Control", "no-store")])
        }
        if prefix != "/" || files == nil, path == prefix || path + "/" == prefix {
            return HTTPResponse(status: 200, contentType: "application/json",
                                body: Array(#"{"name":"PeerJS Server","description":"intercom built-in"}"#.utf8))
        }
        if files != nil, path == "/config.json", let pageConfiguration = settings.pageConfiguration {
            return HTTPResponse(status: 200, contentType: "application/json", body: Array(pageConfiguration().utf8),
                                headers: [("Cache-Control", "no-store")])
        }
        guard let files else { return .text(404, "not found\n") }
        return files.response(for: path)
    }

    public func acceptsWebSocket(path: String) -> Bool { path == settings.path + "peerjs" }

    // MARK: WebSocket

    public func webSocketConnected(_ socket: WebSocketConnection, path: String, query: [String: String]) {
        socket.delegate = self
        let id = ObjectIdentifier(socket)
        sockets[id] = socket
        perform(core.connect(id, key: query["key"], id: query["id"], token: query["token"], now: wallClockMillis()))
        if let peer = query["id"], sockets[id] != nil {
            Log.debug("peerserver", "\(peer) connected from \(socket.peerAddress)")
        }
    }

    public func webSocketDidOpen(_ socket: WebSocketConnection) {}

    public func webSocket(_ socket: WebSocketConnection, didReceive text: String) {
        let message: PeerJSMessage
        do { message = try PeerJSMessage.decode(text) } catch {
            return // the official server ignores what it cannot parse
        }
        perform(core.receive(message, from: ObjectIdentifier(socket), now: wallClockMillis()))
    }

    public func webSocketDidClose(_ socket: WebSocketConnection, error: String?) {
        let id = ObjectIdentifier(socket)
        sockets[id] = nil
        core.disconnect(id)
    }

    private func sweep() { perform(core.sweep(now: wallClockMillis())) }

    private func perform(_ actions: [PeerServerCore<ObjectIdentifier>.Action]) {
        for action in actions {
            switch action {
            case .send(let id, let message):
                if sockets[id]?.send(message.encoded()) != true {
                    // The destination is dead: close it and tell the sender (LEAVE), as the official server.
                    sockets.removeValue(forKey: id)?.close()
                    perform(core.deliveryFailed(id, message))
                }
            case .close(let id):
                sockets[id]?.close()
                sockets[id] = nil
            }
        }
    }

    /// A UUID-shaped random ID, as the official server's default generator gives.
    static func randomID() -> String {
        var g = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        var s = ""
        for i in 0..<32 {
            if [8, 12, 16, 20].contains(i) { s.append("-") }
            s.append(hex[Int(g.next() % 16)])
        }
        return s
    }
}

/// Serves files under one directory; refuses anything that escapes it.
struct StaticFiles {
    let root: String

    static let types: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8", "json": "application/json", "png": "image/png", "svg": "image/svg+xml",
        "ico": "image/x-icon", "webmanifest": "application/manifest+json", "txt": "text/plain; charset=utf-8",
    ]

    func response(for path: String) -> HTTPResponse {
        var relative = path
        if relative.hasSuffix("/") { relative += "index.html" }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0.hasPrefix(".") }) else {
            return .text(404, "not found\n")
        }
        let file = root + "/" + parts.joined(separator: "/")
        guard let bytes = Self.read(file, limit: 8 << 20) else { return .text(404, "not found\n") }
        let ext = parts.last.flatMap { $0.split(separator: ".").last }.map(String.init) ?? ""
        return HTTPResponse(status: 200, contentType: Self.types[ext] ?? "application/octet-stream", body: bytes,
                            headers: [("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff"),
                                      ("Referrer-Policy", "no-referrer")])
    }

    static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { return nil }
            done += n
        }
        return bytes
    }
}
