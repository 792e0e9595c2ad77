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

    public weak var serverHandler: (any WebSocketServerHandler)?
    public let listeningPort: Int?
    /// Whether the listener speaks TLS.
    public let listensSecurely: Bool
    /// Where a plain-HTTP request to a TLS listener is sent: `https://host[:port]` of the door's configured
    /// address (`web.base`), never the request's `Host` header, which whoever sends the request chooses.
    /// nil: such requests get 400.
    public var httpsBase: String?
    /// Sockets lws may hold at once (`fd_limit_per_thread`): the process's descriptor limit less a reserve for
    /// everything else (GStreamer, the control socket, files). At the limit lws stops polling its listening
    /// socket until one closes, instead of spinning on accept's EMFILE; the rest of the door keeps descriptors.
    public let socketLimit: Int

    var context: OpaquePointer?
    /// What lws points into for the context's life, which outlasts this object (see `LWSContextOwner`).
    let owner: LWSContextOwner
    /// Open sockets by their lws handle, server and client alike.
    var connections: [OpaquePointer: WebSocketConnection] = [:]
    /// Client sockets dialled and not yet established (kept in `connections` once lws names their handle).
    var pendingClients: [WebSocketConnection] = []
    /// HTTP bodies waiting for their socket to be writable.
    var pendingHTTP: [OpaquePointer: [UInt8]] = [:]
    /// Open connections per remote address, against `maxConnectionsPerAddress`.
    var perAddress = ConnectionsPerAddress()
    /// Frames taken from each socket in this loop turn (`maxFramesPerTurn`).
    var turn = FramesThisTurn()

    /// Connections at once from one address, HTTP and WebSocket alike, counted as lws accepts them
    /// (`LWS_CALLBACK_FILTER_NETWORK_CONNECTION`): one over is closed before it costs a request or a handshake.
    /// nil: no limit. Addresses in `uncountedAddresses` are not held to it — 127.0.0.1, where the door's own
    /// clients dial its built-in server from (other loopback addresses are counted).
    public var maxConnectionsPerAddress: Int? {
        get { perAddress.limit }
        set { perAddress.limit = newValue }
    }
    public var uncountedAddresses: Set<String> {
        get { perAddress.uncounted }
        set { perAddress.uncounted = newValue }
    }

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

    func keepalivePolicy(_ keepalive: Keepalive) -> UnsafeMutablePointer<lws_retry_bo_t> {
        if let policy = owner.keepalivePolicies[keepalive] { return policy }
        let policy = UnsafeMutablePointer<lws_retry_bo_t>.allocate(capacity: 1)
        policy.initialize(to: lws_retry_bo_t())
        policy.pointee.secs_since_valid_ping = keepalive.pingSeconds
        policy.pointee.secs_since_valid_hangup = keepalive.hangupSeconds
        owner.keepalivePolicies[keepalive] = policy
        return policy
    }
}
