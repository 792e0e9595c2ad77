import CGLib
import Glibc
import DoorCore
import MainLoop

/// The local control socket: a Unix stream socket served on the GLib loop (`g_unix_fd_add_full`,
/// non-blocking `accept4`/`recv`/`send`), used by `intercom ctl`, home automation and the end-to-end tests.
///
/// ## Protocol
///
/// Newline-delimited JSON: each request is one JSON object on one line with a `"cmd"` string, and gets exactly
/// one reply line, in order. Replies carry `"ok": true` or `"ok": false` with an `"error"` text.
///
/// | request | reply |
/// |---|---|
/// | `{"cmd":"press","button":"doorbell","long":false}` | `{"ok":true}`: the same event as a physical press. `button` is `doorbell`, `answer`, `decline` or `mute`; `long` is optional (default `false`) |
/// | `{"cmd":"state"}` | `{"ok":true,"state":…}`: the call state as the core reports it |
/// | `{"cmd":"hangup"}` | `{"ok":true}`: ends the running call or closes the open room |
/// | `{"cmd":"events"}` | `{"ok":true}`, then one line per event (state changes, presses, …) until the client disconnects |
///
/// Every command except `events` is answered by the application's handler; the `intercom` executable answers
/// many more than these (docs/control-socket.md) and unknown ones with `{"ok":false,"error":"unknown cmd …"}`.
/// `events` is answered by the server: use a connection of its own for it, since event lines are not replies.
///
/// Limits: a line longer than 64 KiB gets `{"ok":false,"error":…}` and the connection is closed; a line that is
/// not JSON, or JSON without a `cmd` string, gets `{"ok":false,"error":…}` and the connection stays open. At
/// most 32 clients (the 33rd gets an error line and is closed); a client that leaves more than 1 MiB of
/// replies or events unread is dropped. Example:
///
///     echo '{"cmd":"press","button":"doorbell"}' | socat - UNIX-CONNECT:/run/intercom/control.sock
///
/// The socket file is created mode 0660 (owner and group); its parent directory is created if missing, and a
/// stale socket left by a crashed process is replaced (a live one is not).
@GLibActor
public final class ControlServer {
    public nonisolated static let maxClients = 32
    public nonisolated static let maxLineBytes = 64 * 1024
    public nonisolated static let maxBufferedBytes = 1024 * 1024

    public let path: String
    /// One reply line: called once, now or later.
    public typealias Reply = @Sendable @GLibActor (JSONValue) -> Void

    /// Gives one reply line per request, now or later.
    private let handler: @GLibActor (_ request: JSONValue, _ reply: @escaping Reply) -> Void
    private var listenFD: Int32 = -1
    private var listenWatch: FDWatch?
    private var acceptRetry: GLibTimer?
    private var connections: [Int: ControlConnection] = [:]
    private var lastID = 0

    /// `handler` answers every request except `events`; its return value is the reply line.
    public nonisolated init(path: String, handler: @escaping @GLibActor (JSONValue) -> JSONValue) {
        self.path = path
        self.handler = { request, reply in reply(handler(request)) }
    }

    /// `handler` answers every request except `events` by calling `reply` once, now or later (after a save
    /// finished off the loop); the connection's replies keep the order of its requests.
    public nonisolated init(path: String, replyingLater handler: @escaping @GLibActor (_ request: JSONValue,
                                                                                     _ reply: @escaping Reply) -> Void) {
        self.path = path
        self.handler = handler
    }

    public var isListening: Bool { listenFD >= 0 }
    /// Connected clients.
    public var clientCount: Int { connections.count }
    /// Clients that sent `{"cmd":"events"}`.
    public var subscriberCount: Int { connections.values.filter { $0.subscribed && !$0.isClosing }.count }

    /// Creates the socket and starts accepting. Throws `ControlError` (`.socket`) naming the path and the cause.
    public func start() throws {
        guard listenFD < 0 else { return }
        let address = try UnixSocketAddress(path: path)
        try Self.makeParentDirectory(of: path)
        try Self.removeStaleSocket(at: path, address: address)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Self.failure("create", path) }
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let error = Self.failure("bind", path)
            Glibc.close(fd)
            throw error
        }
        guard chmod(path, 0o660) == 0, listen(fd, 16) == 0 else {
            let error = Self.failure("listen on", path)
            Glibc.close(fd)
            unlink(path)
            throw error
        }
        listenFD = fd
        watchListener()
        Log.info("control", "control socket listening on \(path)")
    }

    /// Closes every client and the socket, and removes the socket file.
    public func stop() {
        guard listenFD >= 0 else { return }
        listenWatch?.cancel()
        listenWatch = nil
        acceptRetry = nil
        for connection in connections.values { connection.disconnect() }
        connections = [:]
        Glibc.close(listenFD)
        listenFD = -1
        unlink(path)
    }

    isolated deinit { stop() }

    /// Sends `event` as one line to every client that asked for `events`.
    public func publish(_ event: ControlEvent) { publish(event.json) }

    /// An event that is not (yet) a `ControlEvent`; prefer the typed one, which the docs' events table is checked
    /// against.
    public func publish(_ event: JSONValue) {
        let line = JSONLine.encode(event)
        for connection in connections.values where connection.subscribed {
            connection.enqueue(line)
        }
    }

    private func watchListener() {
        listenWatch = FDWatch(fd: listenFD, conditions: [G_IO_IN]) { [weak self] _ in
            self?.acceptPending() ?? false
        }
    }

    /// Accepts every waiting client. Returns false when the listener must pause.
    private func acceptPending() -> Bool {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EAGAIN, EWOULDBLOCK: return true
                default:
                    // Out of descriptors or memory: the listener stays readable, so pause it instead of spinning.
                    Log.warning("control", "control socket accept failed: \(String(cString: strerror(errno))); pausing 1 s")
                    acceptRetry = GLibTimer(milliseconds: 1000) { [weak self] in self?.watchListener() }
                    listenWatch = nil
                    return false
                }
            }
            // accept4 is not visible from Swift; the flags are set one by one.
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            guard connections.count < Self.maxClients else {
                let line = JSONLine.encode(["ok": false, "error": .string("too many clients (\(Self.maxClients))")])
                _ = line.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                Glibc.close(fd)
                continue
            }
            lastID += 1
            connections[lastID] = ControlConnection(
                id: lastID, fd: fd, maxLineBytes: Self.maxLineBytes, maxBufferedBytes: Self.maxBufferedBytes,
                onItem: { [weak self] connection, item in self?.received(item, from: connection) },
                onClose: { [weak self] connection in self?.connections[connection.id] = nil })
        }
    }

    private func received(_ item: LineBuffer.Item, from connection: ControlConnection) {
        switch item {
        case .tooLong:
            connection.enqueue(JSONLine.encode(
                ["ok": false, "error": .string("request line longer than \(Self.maxLineBytes) bytes; closing")]))
            connection.finish()
        case .line(let bytes):
            if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { return }
            let place = connection.reserveReply()
            let reply: Reply = { [weak connection] reply in
                connection?.reply(place, JSONLine.encode(reply))
            }
            if let request = JSONLine.decode(bytes) {
                if let command = request["cmd"]?.stringValue {
                    if command == "events" {
                        connection.subscribed = true
                        reply(["ok": true])
                    } else {
                        handler(request, reply)
                    }
                } else {
                    reply(["ok": false, "error": "a request is a JSON object with a \"cmd\" string"])
                }
            } else {
                reply(["ok": false, "error": "invalid JSON"])
            }
        }
    }

    private static func failure(_ action: String, _ path: String) -> ControlError {
        ControlError(.socket, "cannot \(action) control socket \(path): \(String(cString: strerror(errno)))")
    }

    private static func makeParentDirectory(of path: String) throws(ControlError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        var directory = ""
        for component in path[..<slash].split(separator: "/") {
            directory += (directory.isEmpty && !path.hasPrefix("/") ? "" : "/") + component
            if mkdir(directory, 0o755) != 0, errno != EEXIST {
                throw ControlError(.socket, "cannot create directory \(directory) for the control socket: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Removes a socket file nobody listens on; refuses to touch anything else.
    private static func removeStaleSocket(at path: String, address: UnixSocketAddress) throws(ControlError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw ControlError(.socket, "cannot create control socket \(path): the path exists and is not a socket")
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        defer { if probe >= 0 { Glibc.close(probe) } }
        let connected = probe >= 0 && address.withSockaddr { connect(probe, $0, $1) } == 0
        if connected || errno == EAGAIN {
            throw ControlError(.socket, "control socket \(path) is in use by another process (is intercom already running?)")
        }
        unlink(path)
    }
}
