import DoorCore
import MainLoop

/// A PeerJS peer's connection to a signaling server (docs/signaling.md#registering): registers
/// `{path}peerjs?key=&id=&token=&version=`, waits for OPEN, sends HEARTBEAT every 5 s, and reconnects with the
/// same token so the ID survives a dropped socket or a server restart.
///
/// A dead socket (half-open TCP, a server that vanished without a FIN) is found by WebSocket pings: the
/// official server never answers HEARTBEAT but every WebSocket server answers a ping with a pong, and lws
/// sends one after `keepalive.pingSeconds` of silence and drops the socket after `keepalive.hangupSeconds`.
@GLibActor
public final class PeerJSClient: WebSocketDelegate {
    public struct Options: Sendable {
        public var server: WebSocketURL
        public var key = "peerjs"
        public var id: String
        public var token: String
        public var heartbeatMillis: UInt32 = 5000
        public var allowSelfSigned = false
        public var keepalive = WebSocketHost.Keepalive()
        public var backoff = ReconnectBackoff()
        /// ID-TAKEN answers tolerated (each retried with our token after a backoff) before the ID is deemed
        /// someone else's and `onFailure` reports `idTaken`.
        public var idTakenRetries = 3
        /// How long the ID must stay ours before earlier ID-TAKEN answers are forgotten: a stranger who
        /// takes it, lets it go and takes it again is counted across the re-attaches in between.
        public var idTakenForgetMillis: UInt32 = 60_000
        public init(server: WebSocketURL, id: String, token: String = PeerJSClient.randomToken()) {
            self.server = server; self.id = id; self.token = token
        }
    }

    public enum State: Sendable, Equatable { case connecting, open, reconnecting, closed }

    /// Registered (OPEN, or re-attached with our token after a reconnect, where the server sends no OPEN).
    public var onOpen: (@GLibActor () -> Void)?
    /// OFFER, ANSWER, CANDIDATE from peers, and LEAVE (a peer's socket is dead, or a peer left) and EXPIRE
    /// (a peer we sent to never came) from the server.
    public var onMessage: (@GLibActor (PeerJSMessage) -> Void)?
    /// The client has stopped: `serverError` for INVALID-KEY, `idTaken` when the ID was someone else's more
    /// than `idTakenRetries` times without staying ours for `idTakenForgetMillis` in between. (ERROR — a
    /// full server, missing parameters — is retried with the reconnect backoff.)
    public var onFailure: (@GLibActor (SignalingError) -> Void)?

    public let options: Options
    public private(set) var state: State = .closed
    /// Connections lost since the last registration (for logs and tests).
    public private(set) var reconnects = 0
    private let host: WebSocketHost
    private var socket: WebSocketConnection?
    private var heartbeat: GLibTimer?
    private var retry: GLibTimer?
    private var attempts = 0
    private var idTakenCount = 0
    private var idTakenForget: GLibTimer?
    private var everOpened = false
    private var outbox: [PeerJSMessage] = []

    public init(host: WebSocketHost, options: Options) {
        self.host = host
        self.options = options
    }

    public func start() {
        guard state == .closed else { return }
        state = .connecting
        dial()
    }

    /// Unregisters: closes the socket and stops reconnecting (the official server frees the ID at once; the
    /// built-in one holds the door's own IDs for their token a little while, docs/security-hostile-network.md).
    public func stop() {
        state = .closed
        heartbeat = nil
        retry = nil
        idTakenForget = nil
        socket?.delegate = nil
        socket?.close()
        socket = nil
        outbox.removeAll()
    }

    /// Sends now when registered, else after the next OPEN (at most 256 messages wait).
    public func send(_ message: PeerJSMessage) {
        if state == .open, let socket {
            socket.send(message.encoded())
        } else if state != .closed, outbox.count < 256 {
            outbox.append(message)
        }
    }

    private func dial() {
        let o = options
        let query = "peerjs?key=\(o.key)&id=\(o.id)&token=\(o.token)&version=1.5.5-intercom"
        socket = host.connect(o.server, pathAndQuery: query, delegate: self, allowSelfSigned: o.allowSelfSigned,
                              keepalive: o.keepalive)
    }

    public func webSocketDidOpen(_ socket: WebSocketConnection) {
        guard socket === self.socket else { return }
        heartbeat = GLibTimer(milliseconds: options.heartbeatMillis, repeating: true) { [weak self] in
            self?.socket?.send(PeerJSMessage(type: .heartbeat).encoded())
        }
        if everOpened {
            // Re-attaching with our token: the official server sends no OPEN in this case. A server that
            // restarted meanwhile sends one, which then changes nothing.
            Log.info("signaling", "\(options.id) re-attached to \(options.server)")
            registered()
        }
    }

    public func webSocket(_ socket: WebSocketConnection, didReceive text: String) {
        guard socket === self.socket else { return }
        let message: PeerJSMessage
        do { message = try PeerJSMessage.decode(text) } catch {
            Log.debug("signaling", "dropped a server frame: \(error)")
            return
        }
        switch message.type {
        case .open:
            everOpened = true
            guard state != .open else { return }
            Log.info("signaling", "\(options.id) registered on \(options.server)")
            registered()
        case .idTaken:
            idTaken()
        case .invalidKey, .error where Self.isConfigurationError(message):
            let text = message.payload?["msg"]?.stringValue ?? message.type.rawValue
            Log.error("signaling", "\(options.id): server said \(message.type.rawValue): \(text)")
            stop()
            onFailure?(SignalingError(.serverError, text))
        case .error:
            // A full server, or one that refused us for now: it may have room later, so keep trying (with
            // the reconnect backoff) rather than give the ID up for good.
            let text = message.payload?["msg"]?.stringValue ?? message.type.rawValue
            Log.warning("signaling", "\(options.id): server said ERROR: \(text); retrying")
            dropSocket()
            retryLater()
        case .heartbeat:
            break
        case .leave, .expire:
            Log.debug("signaling", "\(options.id): \(message.type.rawValue) about \(message.src ?? "?")")
            onMessage?(message)
        default:
            onMessage?(message)
        }
    }

    /// Someone else holds the ID (a different token). It may be our own earlier registration from another
    /// process, which the server drops after its alive timeout, or a stale entry of a server cluster: retry
    /// with our token a few times, then give up and say so.
    private func idTaken() {
        idTakenCount += 1
        state = .connecting
        if idTakenCount > options.idTakenRetries {
            Log.error("signaling", "\(options.id) is taken by another peer (\(idTakenCount) times ID-TAKEN)")
            stop()
            onFailure?(SignalingError(.idTaken, "\(options.id) is taken by another peer"))
            return
        }
        dropSocket()
        let delay = options.backoff.delayMillis(attempt: idTakenCount)
        Log.warning("signaling", "\(options.id): ID-TAKEN; reclaiming with our token in \(delay) ms "
                    + "(\(idTakenCount)/\(options.idTakenRetries))")
        retry = GLibTimer(milliseconds: delay) { [weak self] in self?.dial() }
    }

    public func webSocketDidClose(_ socket: WebSocketConnection, error: String?) {
        guard socket === self.socket, state != .closed else { return }
        self.socket = nil
        heartbeat = nil
        // A server that answers the upgrade with anything but 101 is there, but not at this path.
        let hint = (error?.contains("101") ?? false)
            ? " — no PeerJS endpoint at \(options.server)peerjs; the signaling URL must be \(WebSocketURL.expectedForm)" : ""
        Log.warning("signaling", "\(options.id): connection to \(options.server) lost (\(error ?? "closed"))\(hint)")
        retryLater()
    }

    /// An ERROR no retry can mend: the server does not know our key (the official server's wording).
    private static func isConfigurationError(_ message: PeerJSMessage) -> Bool {
        message.payload?["msg"]?.stringValue?.hasPrefix("Invalid key") == true
    }

    private func retryLater() {
        if state == .open { reconnects += 1 }
        state = .reconnecting
        attempts += 1
        let delay = options.backoff.delayMillis(attempt: attempts)
        Log.info("signaling", "\(options.id): reconnecting in \(delay) ms")
        retry = GLibTimer(milliseconds: delay) { [weak self] in self?.dial() }
    }

    private func dropSocket() {
        heartbeat = nil
        socket?.delegate = nil
        socket?.close()
        socket = nil
    }

    private func registered() {
        state = .open
        attempts = 0
        if idTakenCount > 0 {
            idTakenForget = GLibTimer(milliseconds: options.idTakenForgetMillis) { [weak self] in
                guard let self, self.state == .open else { return }
                self.idTakenCount = 0
            }
        }
        let queued = outbox
        outbox.removeAll()
        queued.forEach { socket?.send($0.encoded()) }
        onOpen?()
    }

    /// A PeerJS-style token: random base-36 characters.
    public nonisolated static func randomToken(length: Int = 11) -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }
}

/// Reconnect delays: doubling from `initialMillis` to at most `maximumMillis`, each drawn at random from its
/// upper half ("equal jitter"), so a fleet of doors does not reconnect in step after a server restart, and
/// a restarted server is reached again within `maximumMillis`.
public struct ReconnectBackoff: Sendable, Equatable {
    public var initialMillis: UInt32 = 250
    public var maximumMillis: UInt32 = 3000
    public init(initialMillis: UInt32 = 250, maximumMillis: UInt32 = 3000) {
        self.initialMillis = initialMillis; self.maximumMillis = maximumMillis
    }

    /// The wait before attempt `attempt + 1`, for `attempt` ≥ 1.
    public func delayMillis<R: RandomNumberGenerator>(attempt: Int, using random: inout R) -> UInt32 {
        let doublings = UInt64(min(max(attempt - 1, 0), 20))
        let base = UInt32(min(UInt64(initialMillis) << doublings, UInt64(maximumMillis)))
        return UInt32.random(in: (base / 2)...max(base / 2, base), using: &random)
    }

    public func delayMillis(attempt: Int) -> UInt32 {
        var random = SystemRandomNumberGenerator()
        return delayMillis(attempt: attempt, using: &random)
    }
}
