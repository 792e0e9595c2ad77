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
        /// Page origins whose WebSocket upgrades are taken (compared with the `Origin` header, case-blind,
        /// without a trailing slash), besides pages served by this server itself (Origin naming the Host the
        /// request came to); nil takes any origin, as the official server does. Clients that send no Origin
        /// (not browsers: the door's own clients, scripts) are always taken.
        public var allowedOrigins: [String]?
        /// WebSockets at once from one address (nil: no limit, as the official server). Sockets whose token
        /// starts with `ownTokenPrefix` (the door's own clients) are not counted, nor held to the server's
        /// concurrent-ID limit: strangers cannot crowd the door out of its own server.
        public var maxSocketsPerAddress: Int?
        public var ownTokenPrefix: String?
        /// What one WebSocket may send (nil: no limit, as the official server). A socket that goes over is
        /// closed, so one sender cannot take the loop's time from everyone else.
        public var budget: SocketBudget?
        public init() {}
    }

    /// Frames and bytes per second one socket may send, with a burst (a browser signaling a call sends a
    /// few dozen small frames, then a heartbeat every 5 s).
    public struct SocketBudget: Sendable {
        public var framesPerSecond = 50.0
        public var frameBurst = 200.0
        public var bytesPerSecond = 128.0 * 1024
        public var byteBurst = 512.0 * 1024
        public init() {}
    }

    /// Token buckets for one socket's frames and bytes.
    private struct Budget {
        var frames: Double
        var bytes: Double
        var last: Int64
    }

    private let settings: Settings
    private var core: PeerServerCore<ObjectIdentifier>
    private var sockets: [ObjectIdentifier: WebSocketConnection] = [:]
    private var budgets: [ObjectIdentifier: Budget] = [:]
    /// The door's own clients (token with `ownTokenPrefix`): no budget, so a ring to many browsers is never cut.
    private var ownSockets: Set<ObjectIdentifier> = []
    /// The address each counted socket came from, and how many sockets each address has.
    private var addressOf: [ObjectIdentifier: String] = [:]
    private var socketsFrom: [String: Int] = [:]
    private var perAddressLog = LogLimiter(intervalMillis: 5_000)
    private var overBudgetLog = LogLimiter(intervalMillis: 5_000)
    private var refusedOriginLog = LogLimiter(intervalMillis: 5_000)
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

    public func acceptsWebSocket(path: String, origin: String?, host: String?) -> Bool {
        guard path == settings.path + "peerjs" else { return false }
        guard let allowed = settings.allowedOrigins, let origin else { return true }
        let normalised = Self.normalisedOrigin(origin)
        let ownPage = host.map { host in ["http://", "https://"].contains { Self.normalisedOrigin($0 + host) == normalised } }
        guard ownPage == true || allowed.contains(where: { Self.normalisedOrigin($0) == normalised }) else {
            if let suppressed = refusedOriginLog.admit(now: monotonicMillis()) {
                Log.warning("peerserver", "refused a WebSocket from a page at \(origin.prefix(100)) (not in "
                            + "signaling.allowed_origins)" + (suppressed > 0 ? "; \(suppressed) more suppressed" : ""))
            }
            return false
        }
        return true
    }

    /// `https://Host:443/door/` → `https://host`: what a browser puts in Origin for a page there.
    nonisolated static func normalisedOrigin(_ text: String) -> String {
        var origin = text.lowercased()
        for scheme in ["http://", "https://"] where origin.hasPrefix(scheme) {
            if let slash = origin.dropFirst(scheme.count).firstIndex(of: "/") { origin = String(origin[..<slash]) }
        }
        if origin.hasPrefix("https://"), origin.hasSuffix(":443") { origin.removeLast(4) }
        if origin.hasPrefix("http://"), origin.hasSuffix(":80") { origin.removeLast(3) }
        return origin
    }

    // MARK: WebSocket

    public func webSocketConnected(_ socket: WebSocketConnection, path: String, query: [String: String]) {
        let id = ObjectIdentifier(socket)
        let own = settings.ownTokenPrefix.map { prefix in query["token"]?.hasPrefix(prefix) == true } ?? false
        if !own, let cap = settings.maxSocketsPerAddress {
            let address = socket.peerAddress
            guard socketsFrom[address, default: 0] < cap else {
                if let suppressed = perAddressLog.admit(now: monotonicMillis()) {
                    Log.warning("peerserver", "refused a WebSocket from \(address): \(cap) open from there already"
                                + (suppressed > 0 ? "; \(suppressed) more such lines suppressed" : ""))
                }
                return // no delegate: the host closes it
            }
            socketsFrom[address, default: 0] += 1
            addressOf[id] = address
        }
        socket.delegate = self
        sockets[id] = socket
        if own { ownSockets.insert(id) }
        perform(core.connect(id, key: query["key"], id: query["id"], token: query["token"], now: monotonicMillis(),
                             exempt: own, sender: socket.peerAddress))
        if let peer = query["id"], sockets[id] != nil {
            Log.debug("peerserver", "\(peer) connected from \(socket.peerAddress)")
        }
    }

    public func webSocketDidOpen(_ socket: WebSocketConnection) {}

    public func webSocket(_ socket: WebSocketConnection, didReceive text: String) {
        guard spend(socket, bytes: text.utf8.count) else { return }
        let message: PeerJSMessage
        do { message = try PeerJSMessage.decodeForRouting(text) } catch {
            return // the official server ignores what it cannot parse
        }
        perform(core.receive(message, from: ObjectIdentifier(socket), now: monotonicMillis()))
    }

    public func webSocketDidClose(_ socket: WebSocketConnection, error: String?) {
        let id = ObjectIdentifier(socket)
        sockets[id] = nil
        budgets[id] = nil
        ownSockets.remove(id)
        forgetAddress(id)
        core.disconnect(id, now: monotonicMillis())
    }

    private func forgetAddress(_ id: ObjectIdentifier) {
        guard let address = addressOf.removeValue(forKey: id) else { return }
        let left = socketsFrom[address, default: 1] - 1
        socketsFrom[address] = left > 0 ? left : nil
    }

    /// Takes one frame of `bytes` from the socket's budget; over it, the socket is closed and false returned.
    private func spend(_ socket: WebSocketConnection, bytes: Int) -> Bool {
        let id = ObjectIdentifier(socket)
        guard let limits = settings.budget, !ownSockets.contains(id) else { return true }
        let now = monotonicMillis()
        var budget = budgets[id] ?? Budget(frames: limits.frameBurst, bytes: limits.byteBurst, last: now)
        let elapsed = Double(max(0, now - budget.last)) / 1000
        budget.frames = min(limits.frameBurst, budget.frames + elapsed * limits.framesPerSecond) - 1
        budget.bytes = min(limits.byteBurst, budget.bytes + elapsed * limits.bytesPerSecond) - Double(bytes)
        budget.last = now
        budgets[id] = budget
        guard budget.frames < 0 || budget.bytes < 0 else { return true }
        if let suppressed = overBudgetLog.admit(now: now) {
            Log.warning("peerserver", "closing \(socket.peerAddress): over its signaling budget "
                        + "(\(Int(limits.framesPerSecond)) frames/s, \(Int(limits.bytesPerSecond) / 1024) KiB/s)"
                        + (suppressed > 0 ? "; \(suppressed) more such lines suppressed" : ""))
        }
        budgets[id] = nil
        sockets[id] = nil
        forgetAddress(id)
        core.disconnect(id, now: monotonicMillis())
        socket.delegate = nil
        socket.close()
        return false
    }

    private func sweep() { perform(core.sweep(now: monotonicMillis())) }

    private func perform(_ actions: [PeerServerCore<ObjectIdentifier>.Action]) {
        for action in actions {
            switch action {
            case .send(let id, let message):
                if sockets[id]?.send(message.encoded()) != true {
                    // The destination is dead: close it and tell the sender (LEAVE), as the official server.
                    sockets.removeValue(forKey: id)?.close()
                    forgetAddress(id)
                    perform(core.deliveryFailed(id, message, now: monotonicMillis()))
                }
            case .close(let id):
                sockets[id]?.close()
                sockets[id] = nil
                forgetAddress(id)
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

    /// The page's Content-Security-Policy as a header (the page's meta tag cannot say `frame-ancestors`):
    /// no other site may frame the door's page to trick a visitor into pressing its buttons.
    static let contentSecurityPolicy = "default-src 'self'; connect-src 'self' ws: wss: http: https:; "
        + "media-src 'self' blob: mediastream:; img-src 'self' data:; base-uri 'none'; object-src 'none'; "
        + "form-action 'none'; frame-ancestors 'none'"

    func response(for path: String) -> HTTPResponse {
        var relative = path
        if relative.hasSuffix("/") { relative += "index.html" }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0.hasPrefix(".") }) else {
            return .text(404, "not found\n")
        }
        var tag = ""
        guard let bytes = Self.read(parts, under: root, limit: 8 << 20, tag: &tag) else { return .text(404, "not found\n") }
        let ext = parts.last.flatMap { $0.split(separator: ".").last }.map(String.init) ?? ""
        var headers = [("Cache-Control", "no-cache"), ("ETag", tag), ("X-Content-Type-Options", "nosniff"),
                       ("Referrer-Policy", "no-referrer")]
        if ext == "html" {
            headers += [("Content-Security-Policy", Self.contentSecurityPolicy), ("X-Frame-Options", "DENY")]
        }
        return HTTPResponse(status: 200, contentType: Self.types[ext] ?? "application/octet-stream", body: bytes,
                            headers: headers)
    }

    /// The regular file at `root/parts…`, walked one component at a time with `O_NOFOLLOW`: a symlink anywhere
    /// on the way (which could point out of the web root) is refused, as is anything not a regular file (a
    /// FIFO would block the loop: `O_NONBLOCK`, then `fstat`), and it cannot escape `root`.
    /// Its entity tag (`HTTPResponse.entityTag`) goes to `tag`.
    static func read(_ parts: [String], under root: String, limit: Int, tag: inout String) -> [UInt8]? {
        var directory = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { return nil }
        for part in parts.dropLast() {
            let next = openat(directory, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(directory)
            guard next >= 0 else { return nil }
            directory = next
        }
        let fd = openat(directory, parts.last!, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        close(directory)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= limit else { return nil }
        tag = HTTPResponse.entityTag(size: Int(info.st_size), seconds: Int(info.st_mtim.tv_sec),
                                     nanoseconds: Int(info.st_mtim.tv_nsec))
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
