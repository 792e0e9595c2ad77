import CWebSockets
import Glibc
import DoorCore
import MainLoop

/// The libwebsockets context: one per process, in GLib mode on the GLib loop thread, optionally listening on
/// one port for the built-in web + PeerJS server, and dialling signaling servers as a client.
@GLibActor
public final class WebSocketHost {
    /// Frames above this are refused and the socket closed (the official server has no limit; we do).
    public nonisolated static let maxMessageBytes = 64 * 1024
    /// What our client sockets take from a server: above `maxMessageBytes`, because a server forwards a
    /// frame with `src` added — a client with the same limit could be made to drop its own registration by
    /// a stranger sending it one frame of exactly the server's limit.
    public nonisolated static let maxReceivedByClientBytes = 4 * maxMessageBytes
    /// Frames handled from one socket per loop turn: lws hands over everything one read brought (16 KiB, a few
    /// hundred small frames); past this many the socket is paused until the next turn, so one busy socket
    /// cannot keep the loop from its other work. lws keeps what it read meanwhile.
    public nonisolated static let maxFramesPerTurn = 32

    /// Dead-connection detection for client sockets (lws `retry_and_idle_policy`): a WebSocket ping after
    /// `pingSeconds` without traffic proving the link works, the socket dropped after `hangupSeconds`.
    public struct Keepalive: Sendable, Hashable {
        public var pingSeconds: UInt16 = 5
        public var hangupSeconds: UInt16 = 12
        public init(pingSeconds: UInt16 = 5, hangupSeconds: UInt16 = 12) {
            self.pingSeconds = pingSeconds; self.hangupSeconds = hangupSeconds
        }
    }

    public weak var serverHandler: (any WebSocketServerHandler)?
    public let listeningPort: Int?

    /// Connections at once from one address, HTTP and WebSocket alike, counted as lws accepts them
    /// (`LWS_CALLBACK_FILTER_NETWORK_CONNECTION`): one over is closed before it costs a request or a handshake.
    /// nil: no limit. Addresses in `uncountedAddresses` are not held to it — 127.0.0.1, where the door's own
    /// clients dial its built-in server from (other loopback addresses are counted).
    public var maxConnectionsPerAddress: Int?
    public var uncountedAddresses: Set<String> = ["127.0.0.1"]
    /// Where a plain-HTTP request to a TLS listener is sent: `https://host[:port]` of the door's configured
    /// address (`web.base`), never the request's `Host` header, which whoever sends the request chooses.
    /// nil: such requests get 400.
    public var httpsBase: String?
    /// Sockets lws may hold at once (`fd_limit_per_thread`): the process's descriptor limit less a reserve for
    /// everything else (GStreamer, the control socket, files). At the limit lws stops polling its listening
    /// socket until one closes, instead of spinning on accept's EMFILE; the rest of the door keeps descriptors.
    public let socketLimit: Int

    private var context: OpaquePointer?
    /// What lws points into for the context's life, which outlasts this object (see `LWSContextOwner`).
    private let owner: LWSContextOwner
    private var connections: [OpaquePointer: WebSocketConnection] = [:]
    private var pendingHTTP: [OpaquePointer: [UInt8]] = [:]
    /// Frames taken from each socket in this loop turn; sockets paused (`lws_rx_flow_control`) for the rest of
    /// it once they reach `maxFramesPerTurn`.
    private var framesThisTurn: [OpaquePointer: Int] = [:]
    private var pausedThisTurn: [OpaquePointer] = []
    private var connectionsFrom: [String: Int] = [:]
    private var addressOfConnection: [OpaquePointer: String] = [:]
    private var perAddressLog = LogLimiter(intervalMillis: 5_000)

    /// The certificate and key files of a listener that speaks TLS (HTTPS and WSS on its port).
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var privateKey: String
        public init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    /// Whether the listener speaks TLS.
    public let listensSecurely: Bool

    /// `listen` nil = client only. With `tls`, the listener speaks HTTPS/WSS, and a plain `http://` request to
    /// the same port is redirected to `https://`. Throws `listenFailed` when the port is taken, the GLib event
    /// library plugin (Debian package libwebsockets-evlib-glib) is missing, or the TLS files cannot be used.
    public init(listen: (host: String, port: Int)?, tls: TLSFiles? = nil) throws(SignalingError) {
        lws_set_log_level(Int32(LLL_ERR | LLL_WARN), nil)
        if let problem = Self.glibPluginPinned { throw SignalingError(.listenFailed, problem) }
        owner = LWSContextOwner()
        listeningPort = listen?.port
        socketLimit = Self.socketLimit(descriptorLimit: Self.descriptorLimit())

        // lws logs a failed bind and carries on without a listener; find out first, in words.
        if let listen { try Self.checkCanListen(host: listen.host, port: listen.port) }
        if listen != nil, let tls { try Self.checkReadable(tls) }
        listensSecurely = listen != nil && tls != nil
        owner.host = self
        var info = lws_context_creation_info()
        info.port = Int32(listen?.port ?? Int(CONTEXT_PORT_NO_LISTEN))
        let iface = listen.map { strdup($0.host == "0.0.0.0" || $0.host == "*" ? "" : $0.host)! }
        defer { free(iface) }
        if let iface, iface.pointee != 0 { info.iface = UnsafePointer(iface) }
        info.protocols = UnsafePointer(owner.protocols)
        info.options = UInt64(LWS_SERVER_OPTION_GLIB) | UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            | UInt64(LWS_SERVER_OPTION_DISABLE_IPV6)
        let tlsPaths = tls.map { (strdup($0.certificate)!, strdup($0.privateKey)!) }
        defer { tlsPaths.map { free($0.0); free($0.1) } }
        if listen != nil, let tlsPaths {
            info.ssl_cert_filepath = UnsafePointer(tlsPaths.0)
            info.ssl_private_key_filepath = UnsafePointer(tlsPaths.1)
            // Plain HTTP on the same port is taken, so that someone who types http://door:8080 is redirected
            // (by us, to `httpsBase`: lws's own redirect would name the request's Host header) instead of
            // meeting a TLS error; nothing else is served over it (see `handle`). LWS_SERVER_OPTION_ALLOW_NON_SSL_
            // ON_SSL_PORT (a macro with an expression, which Swift does not import: lws-context-vhost.h, bits 3
            // and 12) and LWS_SERVER_OPTION_ALLOW_HTTP_ON_HTTPS_LISTENER (bit 29).
            info.options |= (1 << 3) | (1 << 12) | (1 << 29)
            // HTTP/1.1 only: our HTTP replies and the WebSocket upgrade are HTTP/1.1 (over h2 Chromium failed
            // to load the scripts with ERR_HTTP2_FRAME_SIZE_ERROR).
            info.alpn = UnsafePointer(owner.protocolNames[2])
        }
        info.foreign_loops = owner.foreignLoops
        info.fd_limit_per_thread = UInt32(socketLimit)
        // -1: keep the process's user and group. lws 4.1 (Debian 12) declares these `int`, lws 4.3 (Debian 13)
        // `gid_t`/`uid_t`; the all-ones pattern is -1 in either type.
        info.gid = .init(truncatingIfNeeded: -1)
        info.uid = .init(truncatingIfNeeded: -1)
        // The context holds the owner from here until lws frees its vhost and calls `lwsVhostFinalized` —
        // or, if creation fails half-way, for good: a few hundred bytes, once, on a start that failed.
        let retainedOwner = Unmanaged.passRetained(owner).toOpaque()
        info.user = retainedOwner
        info.finalize = lwsVhostFinalized
        info.finalize_arg = retainedOwner
        context = lws_create_context(&info)
        guard context != nil else {
            let target = listen.map { "\($0.host):\($0.port)" } ?? "client"
            let why = listensSecurely ? "the TLS certificate and key do not load (not PEM, or not a matching pair)"
                : "port in use, or libwebsockets-evlib-glib missing"
            throw SignalingError(.listenFailed, "libwebsockets could not start (\(target)): \(why)")
        }
        if let listen {
            Log.info("signaling", "listening on \(listen.host):\(listen.port)" + (listensSecurely ? " (HTTPS/WSS)" : ""))
        }
    }

    /// The process's soft RLIMIT_NOFILE (1024 when it cannot be read).
    static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_cur) // RLIM_INFINITY is all ones: clamped to Int.max
    }

    /// lws's share of `descriptorLimit`: a quarter (at least 64) is kept for the rest of the process, and lws's
    /// tables stay small however high the limit is (with this set below the limit, lws searches them).
    nonisolated static func socketLimit(descriptorLimit: Int) -> Int {
        let reserve = max(64, descriptorLimit / 4)
        return min(8192, max(16, descriptorLimit - reserve))
    }

    /// lws loads its GLib event-loop plugin with `dlopen` for each context and unloads it when the context's
    /// shutdown finishes — a shutdown lws 4.1 finishes from inside a GLib source of that very plugin, so the
    /// return lands in unmapped code (SIGSEGV). One more `dlopen` of ours, with RTLD_NODELETE, keeps the plugin
    /// mapped for the life of the process. nil when done; otherwise what is wrong, in words.
    private static let glibPluginPinned: String? = {
        guard let directory = loadedLibraryDirectory(prefix: "libwebsockets.so") else {
            return "cannot find where libwebsockets is installed (no libwebsockets.so in /proc/self/maps)"
        }
        let plugin = directory + "/libwebsockets-evlib_glib.so"
        guard dlopen(plugin, RTLD_NOW | RTLD_NODELETE) != nil else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown error"
            return "libwebsockets' GLib event-loop plugin does not load (\(why)); install the Debian package "
                + "libwebsockets-evlib-glib"
        }
        return nil
    }()

    /// The directory of the first mapped file whose name starts with `prefix` (lws looks for its plugins there).
    private static func loadedLibraryDirectory(prefix: String) -> String? {
        guard let file = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard let slash = text.firstIndex(of: "/") else { continue }
            let path = text[slash...]
            guard let lastSlash = path.lastIndex(of: "/"), path[path.index(after: lastSlash)...].hasPrefix(prefix)
            else { continue }
            return String(path[..<lastSlash])
        }
        return nil
    }

    /// The certificate and key must be readable files: say which one is not, before lws says only "failed".
    static func checkReadable(_ tls: TLSFiles) throws(SignalingError) {
        for (what, path) in [("certificate", tls.certificate), ("private key", tls.privateKey)] {
            guard access(path, R_OK) == 0 else {
                throw SignalingError(.listenFailed, "cannot read the TLS \(what) \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Binds a throwaway IPv4 TCP socket to `host:port` (with SO_REUSEADDR, as lws does) and closes it.
    static func checkCanListen(host: String, port: Int) throws(SignalingError) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let any = host.isEmpty || host == "0.0.0.0" || host == "*"
        guard any || inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SignalingError(.listenFailed, "cannot listen on \(host):\(port): not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SignalingError(.listenFailed, "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            throw SignalingError(.listenFailed, "cannot listen on \(host):\(port): \(String(cString: strerror(errno)))")
        }
    }

    /// Tells every open socket's delegate it closed, then starts lws's shutdown, which finishes on later loop
    /// turns (sockets still closing); their callbacks then find no host and do nothing. The server stops
    /// listening; a later `connect` fails at once. The door's lifecycle calls it last but one (before the
    /// display); `deinit` does it when nobody did.
    public func shutDown() {
        let open = Array(connections.values) + pendingClients
        connections = [:]
        pendingClients = []
        for socket in open { socket.reportClosed("the WebSocket host shut down") }
        if let context { lws_context_destroy(context) }
        context = nil
    }

    isolated deinit { shutDown() }

    /// Dials `url` + `pathAndQuery` (which starts without "/"; it is appended to `url.path`).
    public func connect(_ url: WebSocketURL, pathAndQuery: String, delegate: any WebSocketDelegate,
                        allowSelfSigned: Bool = false, keepalive: Keepalive = Keepalive()) -> WebSocketConnection {
        let socket = WebSocketConnection(isClient: true, peerAddress: "\(url.host):\(url.port)")
        socket.delegate = delegate
        guard context != nil else {
            GLibLoop.shared.post { socket.reportClosed("the WebSocket host shut down") }
            return socket
        }
        let address = strdup(url.host)!, path = strdup(url.path + pathAndQuery)!
        let hostHeader = strdup(url.port == (url.secure ? 443 : 80) ? url.host : "\(url.host):\(url.port)")!
        let localProtocol = strdup("peerjs-client")!
        socket.cStrings = [address, path, hostHeader, localProtocol]
        var info = lws_client_connect_info()
        info.context = context
        info.address = UnsafePointer(address)
        info.port = Int32(url.port)
        info.path = UnsafePointer(path)
        info.host = UnsafePointer(hostHeader)
        // No Origin: this is no browser page, and servers that check Origin let such clients through.
        info.ietf_version_or_minus_one = -1
        info.local_protocol_name = UnsafePointer(localProtocol)
        if url.secure {
            var flags = Int32(LCCSCF_USE_SSL.rawValue)
            if allowSelfSigned {
                flags |= Int32(LCCSCF_ALLOW_SELFSIGNED.rawValue) | Int32(LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK.rawValue)
            }
            info.ssl_connection = flags
        }
        info.retry_and_idle_policy = UnsafePointer(keepalivePolicy(keepalive))
        info.opaque_user_data = Unmanaged.passUnretained(socket).toOpaque()
        // Kept in `connections` from now; callbacks during the connect call find it through opaque_user_data.
        pendingClients.append(socket)
        // No `pwsi`: lws writes through it again when the connection is destroyed, long after any local
        // variable it could point at is gone. The wsi comes back as the result and in the callbacks.
        let result = lws_client_connect_via_info(&info)
        if result == nil, !socket.closedReported {
            pendingClients.removeAll { $0 === socket }
            // Reported on the next loop turn so the caller sees the same callback order as an async failure.
            GLibLoop.shared.post { socket.reportClosed("could not start connecting to \(url)") }
        } else if let result, socket.wsi == nil, !socket.closedReported {
            socket.wsi = result
            connections[result] = socket
        }
        return socket
    }

    private var pendingClients: [WebSocketConnection] = []

    private func keepalivePolicy(_ keepalive: Keepalive) -> UnsafeMutablePointer<lws_retry_bo_t> {
        if let policy = owner.keepalivePolicies[keepalive] { return policy }
        let policy = UnsafeMutablePointer<lws_retry_bo_t>.allocate(capacity: 1)
        policy.initialize(to: lws_retry_bo_t())
        policy.pointee.secs_since_valid_ping = keepalive.pingSeconds
        policy.pointee.secs_since_valid_hangup = keepalive.hangupSeconds
        owner.keepalivePolicies[keepalive] = policy
        return policy
    }

    // MARK: callback dispatch (on the GLib thread)

    func handle(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?,
                _ length: Int) -> Int32 {
        guard let wsi else { return 0 }
        switch reason {
        // Server: HTTP
        case LWS_CALLBACK_HTTP:
            let path = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "/"
            if let refusal = refusedRequest(wsi) {
                // Said at once, then the connection closes: its body is never read, so it cannot hold the
                // connection or be taken for the next request.
                _ = startHTTPResponse(wsi, refusal)
                if let body = pendingHTTP.removeValue(forKey: wsi), !body.isEmpty {
                    var buffer = [UInt8](repeating: 0, count: Int(ic_lws_pre()) + body.count)
                    buffer.replaceSubrange(Int(ic_lws_pre())..., with: body)
                    _ = buffer.withUnsafeMutableBufferPointer {
                        lws_write(wsi, $0.baseAddress! + Int(ic_lws_pre()), body.count, LWS_WRITE_HTTP_FINAL)
                    }
                }
                return -1
            }
            if listensSecurely, lws_is_ssl(wsi) == 0 { return startHTTPResponse(wsi, redirectToHTTPS(wsi, path: path)) }
            var response = serverHandler?.handleHTTP(path: path) ?? .text(404, "not found\n")
            // A file the browser already has: 304, no body (HTTPResponse+NotModified.swift).
            if let tags = header(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH) { response = response.notModified(ifNoneMatch: tags) }
            // HEAD: the same headers (Content-Length included), no body.
            let isHead = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0
            return startHTTPResponse(wsi, response, sendBody: !isHead)
        case LWS_CALLBACK_HTTP_WRITEABLE:
            guard let body = pendingHTTP.removeValue(forKey: wsi) else { return 0 }
            if !body.isEmpty {
                var buffer = [UInt8](repeating: 0, count: Int(ic_lws_pre()) + body.count)
                buffer.replaceSubrange(Int(ic_lws_pre())..., with: body)
                let written = buffer.withUnsafeMutableBufferPointer {
                    lws_write(wsi, $0.baseAddress! + Int(ic_lws_pre()), body.count, LWS_WRITE_HTTP_FINAL)
                }
                if written < 0 { return -1 }
            }
            return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
        case LWS_CALLBACK_HTTP_BODY:
            return -1 // no request we take has a body (`refusedRequest`)
        case LWS_CALLBACK_CLOSED_HTTP:
            pendingHTTP[wsi] = nil
            return 0

        // Server: any connection, as it is accepted
        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
            // `input` is the accepted descriptor; `wsi` is still the listener's.
            let fd = Int32(truncatingIfNeeded: Int(bitPattern: input))
            guard let cap = maxConnectionsPerAddress, let address = Self.peerAddress(of: fd),
                  !uncountedAddresses.contains(address), connectionsFrom[address, default: 0] >= cap else { return 0 }
            if let suppressed = perAddressLog.admit(now: monotonicMillis()) {
                Log.warning("signaling", "refused a connection from \(address): \(cap) open from there already"
                            + (suppressed > 0 ? "; \(suppressed) more such lines suppressed" : ""))
            }
            return -1
        case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
            let address = remoteAddress(wsi)
            guard maxConnectionsPerAddress != nil, !uncountedAddresses.contains(address) else { return 0 }
            connectionsFrom[address, default: 0] += 1
            addressOfConnection[wsi] = address
            return 0

        // Server: WebSocket
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            if listensSecurely, lws_is_ssl(wsi) == 0 { return -1 } // a TLS listener takes no plain ws://
            let path = header(wsi, WSI_TOKEN_GET_URI) ?? ""
            return serverHandler?.acceptsWebSocket(path: path, origin: header(wsi, WSI_TOKEN_ORIGIN),
                                                   host: header(wsi, WSI_TOKEN_HOST)) == true ? 0 : -1
        case LWS_CALLBACK_ESTABLISHED:
            let socket = WebSocketConnection(isClient: false, peerAddress: remoteAddress(wsi))
            socket.wsi = wsi
            socket.isOpen = true
            connections[wsi] = socket
            let path = header(wsi, WSI_TOKEN_GET_URI) ?? ""
            serverHandler?.webSocketConnected(socket, path: path, query: queryArguments(wsi))
            if socket.delegate == nil { return -1 }
            return 0
        case LWS_CALLBACK_RECEIVE, LWS_CALLBACK_CLIENT_RECEIVE:
            guard let socket = connections[wsi] else { return -1 }
            return receive(socket, wsi, input, length)
        case LWS_CALLBACK_SERVER_WRITEABLE, LWS_CALLBACK_CLIENT_WRITEABLE:
            guard let socket = connections[wsi] else { return -1 }
            return writable(socket, wsi)
        case LWS_CALLBACK_CLOSED, LWS_CALLBACK_CLIENT_CLOSED:
            connections.removeValue(forKey: wsi)?.reportClosed(nil)
            return 0

        // Client
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            guard let socket = clientSocket(wsi) else { return -1 }
            socket.wsi = wsi
            socket.isOpen = true
            connections[wsi] = socket
            pendingClients.removeAll { $0 === socket }
            socket.delegate?.webSocketDidOpen(socket)
            if socket.hasQueuedFrames || socket.closeRequested { lws_callback_on_writable(wsi) }
            return 0
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            let text = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection failed"
            let socket = connections.removeValue(forKey: wsi) ?? clientSocket(wsi)
            if let socket {
                pendingClients.removeAll { $0 === socket }
                socket.reportClosed(text)
            }
            return 0
        case LWS_CALLBACK_WSI_DESTROY:
            if let socket = connections.removeValue(forKey: wsi) {
                pendingClients.removeAll { $0 === socket }
                socket.reportClosed(socket.isClient && !socket.isOpen ? "connection failed" : nil)
            }
            pendingHTTP[wsi] = nil
            if let address = addressOfConnection.removeValue(forKey: wsi) {
                let left = connectionsFrom[address, default: 1] - 1
                connectionsFrom[address] = left > 0 ? left : nil
            }
            return 0
        default:
            return lws_callback_http_dummy(wsi, reason, nil, input, length)
        }
    }

    private func clientSocket(_ wsi: OpaquePointer) -> WebSocketConnection? {
        guard let opaque = lws_get_opaque_user_data(wsi) else { return nil }
        let socket = Unmanaged<WebSocketConnection>.fromOpaque(opaque).takeUnretainedValue()
        return pendingClients.contains { $0 === socket } || connections[wsi] === socket ? socket : nil
    }

    private func receive(_ socket: WebSocketConnection, _ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?,
                         _ length: Int) -> Int32 {
        if let input, length > 0 {
            socket.incoming.append(contentsOf: UnsafeRawBufferPointer(start: input, count: length))
        }
        let limit = socket.isClient ? Self.maxReceivedByClientBytes : Self.maxMessageBytes
        if socket.incoming.count > limit {
            Log.warning("signaling", "closing \(socket.peerAddress): frame over \(limit) bytes")
            socket.incoming = []
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nil, 0)
            return -1
        }
        guard lws_is_final_fragment(wsi) != 0, lws_remaining_packet_payload(wsi) == 0 else { return 0 }
        let bytes = socket.incoming
        socket.incoming = []
        guard lws_frame_is_binary(wsi) == 0 else {
            Log.debug("signaling", "ignored a binary frame from \(socket.peerAddress)")
            return 0
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            Log.debug("signaling", "ignored a frame that is not UTF-8 from \(socket.peerAddress)")
            return 0
        }
        socket.delegate?.webSocket(socket, didReceive: text)
        countFrame(wsi)
        return 0
    }

    /// Counts a frame for this loop turn; the socket's `maxFramesPerTurn`th pauses it until the next turn.
    private func countFrame(_ wsi: OpaquePointer) {
        if framesThisTurn.isEmpty {
            // Posted at the loop's default priority: it runs once the sources ready now have been dispatched.
            GLibLoop.shared.post { [weak self] in self?.endTurn() }
        }
        let count = framesThisTurn[wsi, default: 0] + 1
        framesThisTurn[wsi] = count
        if count == Self.maxFramesPerTurn, connections[wsi] != nil {
            lws_rx_flow_control(wsi, 0)
            pausedThisTurn.append(wsi)
        }
    }

    private func endTurn() {
        framesThisTurn = [:]
        let paused = pausedThisTurn
        pausedThisTurn = []
        for wsi in paused where connections[wsi] != nil { lws_rx_flow_control(wsi, 1) }
    }

    /// Writes queued frames while the socket takes them (at most 64 per callback, so one busy peer does
    /// not hold up the loop), then closes if asked and everything is out.
    private func writable(_ socket: WebSocketConnection, _ wsi: OpaquePointer) -> Int32 {
        var written = 0
        while socket.hasQueuedFrames, written < 64, written == 0 || lws_send_pipe_choked(wsi) == 0 {
            let frame = socket.outbox[socket.outboxHead]
            socket.outbox[socket.outboxHead] = []
            socket.outboxHead += 1
            socket.queuedBytes -= frame.count
            let pre = Int(ic_lws_pre())
            var buffer = [UInt8](repeating: 0, count: pre + frame.count)
            buffer.replaceSubrange(pre..., with: frame)
            let result = buffer.withUnsafeMutableBufferPointer {
                lws_write(wsi, $0.baseAddress! + pre, frame.count, LWS_WRITE_TEXT)
            }
            if result < frame.count { return -1 }
            socket.lastProgress = monotonicMillis()
            written += 1
        }
        if socket.outboxHead > 256, socket.outboxHead * 2 > socket.outbox.count {
            socket.outbox.removeFirst(socket.outboxHead)
            socket.outboxHead = 0
        }
        if socket.hasQueuedFrames {
            lws_callback_on_writable(wsi)
            return 0
        }
        if socket.closeRequested {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nil, 0)
            return -1
        }
        return 0
    }

    private func startHTTPResponse(_ wsi: OpaquePointer, _ response: HTTPResponse, sendBody: Bool = true) -> Int32 {
        let pre = Int(ic_lws_pre())
        var buffer = [UInt8](repeating: 0, count: pre + 4096)
        return buffer.withUnsafeMutableBufferPointer { raw -> Int32 in
            let start = raw.baseAddress! + pre
            var p: UnsafeMutablePointer<UInt8>? = start
            let end = raw.baseAddress! + raw.count - 1
            if lws_add_http_common_headers(wsi, response.status, response.contentType,
                                           lws_filepos_t(response.body.count), &p, end) != 0 { return 1 }
            for (name, value) in response.headers {
                let ok = lowercasedHeaderName(name).withCString { n in
                    value.withCString { v in
                        lws_add_http_header_by_name(wsi, UnsafeRawPointer(n).assumingMemoryBound(to: UInt8.self),
                                                    UnsafeRawPointer(v).assumingMemoryBound(to: UInt8.self),
                                                    Int32(value.utf8.count), &p, end)
                    }
                }
                if ok != 0 { return 1 }
            }
            if lws_finalize_write_http_header(wsi, start, &p, end) != 0 { return 1 }
            pendingHTTP[wsi] = sendBody ? response.body : []
            lws_callback_on_writable(wsi)
            return 0
        }
    }

    private func lowercasedHeaderName(_ name: String) -> String {
        let lower = String(name.unicodeScalars.map { $0.properties.isUppercase ? Character($0.properties.lowercaseMapping) : Character($0) })
        return lower.hasSuffix(":") ? lower : lower + ":"
    }

    private func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = Int(lws_hdr_total_length(wsi, token))
        guard length > 0, length < 8192 else { return nil }
        var buffer = [CChar](repeating: 0, count: length + 1)
        guard lws_hdr_copy(wsi, &buffer, Int32(buffer.count), token) >= 0 else { return nil }
        return String(cString: buffer)
    }

    /// URL arguments (`key=…&id=…`), each already URL-decoded by lws.
    private func queryArguments(_ wsi: OpaquePointer) -> [String: String] {
        var result: [String: String] = [:]
        var buffer = [CChar](repeating: 0, count: 1024)
        var index: Int32 = 0
        while index < 32, lws_hdr_copy_fragment(wsi, &buffer, Int32(buffer.count), WSI_TOKEN_HTTP_URI_ARGS, index) > 0 {
            let pair = String(cString: buffer)
            if let eq = pair.firstIndex(of: "=") {
                result[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            } else {
                result[pair] = ""
            }
            index += 1
        }
        return result
    }

    /// The built-in web server takes GET and HEAD without a body: any other method is 405, a body (a
    /// Content-Length above 0, or chunked) is 413. nil: the request is taken.
    private func refusedRequest(_ wsi: OpaquePointer) -> HTTPResponse? {
        let closing = [("Connection", "close"), ("Cache-Control", "no-store")]
        guard lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0 else {
            var response = HTTPResponse.text(405, "Only GET and HEAD are taken here.\n")
            response.headers = [("Allow", "GET, HEAD")] + closing
            return response
        }
        let length = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH).map { $0.trimmingPrefix(while: { $0 == " " }) }
        let hasBody = (length.map { $0 != "0" } ?? false)
            || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0
        guard hasBody else { return nil }
        var response = HTTPResponse.text(413, "Request bodies are not taken here.\n")
        response.headers = closing
        return response
    }

    /// 301 to the same path (and query) under `httpsBase`.
    private func redirectToHTTPS(_ wsi: OpaquePointer, path: String) -> HTTPResponse {
        guard let httpsBase else { return .text(400, "This door speaks HTTPS only.\n") }
        let query = header(wsi, WSI_TOKEN_HTTP_URI_ARGS).map { "?" + Self.percentEncoded($0, keeping: "=&") } ?? ""
        let location = httpsBase + Self.percentEncoded(path, keeping: "/") + query
        return HTTPResponse(status: 301, contentType: "text/plain; charset=utf-8", body: Array("\(location)\n".utf8),
                            headers: [("Location", location), ("Cache-Control", "no-store")])
    }

    /// `https://host[:port]` of a configured base URL (`http://` or `https://`; any path dropped); nil otherwise.
    public nonisolated static func httpsOrigin(of base: String) -> String? {
        let lower = base.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lower.hasPrefix($0) }) else { return nil }
        let authority = base.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains(where: { $0 == "@" || $0 == " " || $0 == "\\" }) else { return nil }
        return "https://" + authority
    }

    /// lws hands us the path and query URL-decoded: encode them again for a Location header.
    nonisolated static func percentEncoded(_ text: String, keeping extra: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let kept = unreserved.union(extra.utf8)
        let hex = Array("0123456789ABCDEF")
        var result = ""
        for byte in text.utf8 {
            if kept.contains(byte) { result.unicodeScalars.append(UnicodeScalar(byte)) } else {
                result += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return result
    }

    /// The IPv4 address a socket is connected from, as `lws_get_peer_simple` writes it.
    private static func peerAddress(of fd: Int32) -> String? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let got = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard got == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
        return String(cString: text)
    }

    private func remoteAddress(_ wsi: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        lws_get_peer_simple(wsi, &buffer, buffer.count)
        return String(cString: buffer)
    }
}
