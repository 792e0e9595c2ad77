import Intercom
import MainLoop

/// A PeerJS peer's connection to a signaling server (`notes/peerjs-wire.md` §1, §10): registers
/// `{path}peerjs?key=&id=&token=&version=`, waits for OPEN, sends HEARTBEAT every 5 s, and reconnects with the
/// same token so the ID survives a dropped socket.
@GLibActor
public final class PeerJSClient: WebSocketDelegate {
    public struct Options: Sendable {
        public var server: WebSocketURL
        public var key = "peerjs"
        public var id: String
        public var token: String
        public var heartbeatMillis: UInt32 = 5000
        public var allowSelfSigned = false
        public init(server: WebSocketURL, id: String, token: String = PeerJSClient.randomToken()) {
            self.server = server; self.id = id; self.token = token
        }
    }

    public enum State: Sendable, Equatable { case connecting, open, reconnecting, closed }

    /// Registered (OPEN, or re-attached with our token after a reconnect).
    public var onOpen: (@GLibActor () -> Void)?
    /// OFFER, ANSWER, CANDIDATE, LEAVE and EXPIRE from peers.
    public var onMessage: (@GLibActor (PeerJSMessage) -> Void)?
    /// ERROR or ID-TAKEN from the server; the client stops after these.
    public var onFailure: (@GLibActor (SignalingError) -> Void)?

    public let options: Options
    public private(set) var state: State = .closed
    private let host: WebSocketHost
    private var socket: WebSocketConnection?
    private var heartbeat: GLibTimer?
    private var retry: GLibTimer?
    private var attempts = 0
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

    /// Unregisters: closes the socket (the server frees the ID at once) and stops reconnecting.
    public func stop() {
        state = .closed
        heartbeat = nil
        retry = nil
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
        socket = host.connect(o.server, pathAndQuery: query, delegate: self, allowSelfSigned: o.allowSelfSigned)
    }

    public func webSocketDidOpen(_ socket: WebSocketConnection) {
        guard socket === self.socket else { return }
        heartbeat = GLibTimer(milliseconds: options.heartbeatMillis, repeating: true) { [weak self] in
            self?.socket?.send(PeerJSMessage(type: .heartbeat).encoded())
        }
        if everOpened {
            // Re-attaching with our token: the official server sends no OPEN in this case.
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
            Log.info("signaling", "\(options.id) registered on \(options.server)")
            everOpened = true
            registered()
        case .idTaken, .error, .invalidKey:
            let text = message.payload?["msg"]?.stringValue ?? message.type.rawValue
            Log.error("signaling", "\(options.id): server said \(message.type.rawValue): \(text)")
            let code: SignalingError.Code = message.type == .idTaken ? .idTaken : .serverError
            stop()
            onFailure?(SignalingError(code, text))
        case .heartbeat:
            break
        default:
            onMessage?(message)
        }
    }

    public func webSocketDidClose(_ socket: WebSocketConnection, error: String?) {
        guard socket === self.socket, state != .closed else { return }
        self.socket = nil
        heartbeat = nil
        state = .reconnecting
        attempts += 1
        let delay = Self.backoffMillis(attempt: attempts)
        Log.warning("signaling", "\(options.id): connection to \(options.server) lost (\(error ?? "closed")); "
                    + "retrying in \(delay) ms")
        retry = GLibTimer(milliseconds: delay) { [weak self] in self?.dial() }
    }

    private func registered() {
        state = .open
        attempts = 0
        let queued = outbox
        outbox.removeAll()
        queued.forEach { socket?.send($0.encoded()) }
        onOpen?()
    }

    /// 250 ms doubling to 4 s, ±25 % jitter so a fleet does not reconnect in step.
    static func backoffMillis(attempt: Int) -> UInt32 {
        let base = min(4000, 250 << min(attempt - 1, 5))
        let jitter = Int.random(in: -(base / 4)...(base / 4))
        return UInt32(base + jitter)
    }

    /// A PeerJS-style token: random base-36 characters.
    public nonisolated static func randomToken(length: Int = 11) -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }
}
