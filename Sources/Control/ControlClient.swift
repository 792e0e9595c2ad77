import Glibc
import DoorCore

/// A blocking client of the `ControlServer` socket, for `intercom ctl` and tests: one connection, one request at
/// a time. Never use it on the GLib loop thread (it would wait for a reply the loop cannot send).
///
/// A reply that does not come within `timeout` throws `.timeout`; after that the connection's replies are out of
/// step, so make a new client.
public final class ControlClient {
    public let path: String
    public let timeout: Duration?
    private let fd: Int32
    private var input = LineBuffer(maxLineBytes: 16 * 1024 * 1024)

    /// Connects to the socket at `path`. Throws `.notRunning` when the socket is missing or nobody listens.
    public init(path: String, timeout: Duration? = .seconds(5)) throws {
        self.path = path
        self.timeout = timeout
        let address = try UnixSocketAddress(path: path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw ControlError(.socket, "cannot create a socket: \(String(cString: strerror(errno)))")
        }
        guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            let code = errno
            Glibc.close(fd)
            switch code {
            case ENOENT:
                throw ControlError(.notRunning, "control socket \(path) not found — is intercom running?")
            case ECONNREFUSED:
                throw ControlError(.notRunning, "nobody listens on control socket \(path) — is intercom running?")
            case EACCES:
                throw ControlError(.socket, "permission denied on control socket \(path) (run as its owner or group)")
            default:
                throw ControlError(.socket, "cannot connect to control socket \(path): \(String(cString: strerror(code)))")
            }
        }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    /// Sends one request and returns its reply.
    public func send(_ request: JSONValue) throws -> JSONValue {
        try exchange(JSONLine.encode(request))
    }

    /// Sends one line as typed (it should be a JSON request) and returns the reply.
    public func send(line: String) throws -> JSONValue {
        guard !line.contains(where: \.isNewline) else {
            throw ControlError(.badMessage, "a control request is a single line")
        }
        return try exchange(Array(line.utf8) + [UInt8(ascii: "\n")])
    }

    /// Sends `{"cmd":"events"}`; from then on this connection carries events (read them with `nextEvent`).
    public func subscribe() throws {
        let reply = try send(["cmd": "events"])
        guard reply["ok"] == .bool(true) else {
            throw ControlError(.badMessage, "events refused: \(reply["error"]?.stringValue ?? "no reason given")")
        }
    }

    /// The next event on a subscribed connection, waiting at most `timeout` (nil: as long as it takes).
    public func nextEvent(timeout: Duration? = nil) throws -> JSONValue {
        try readValue(timeout: timeout)
    }

    /// Subscribes and calls `each` for every event until it returns false. Throws `.connectionClosed` when
    /// intercom goes away.
    public func streamEvents(_ each: (JSONValue) -> Bool) throws {
        try subscribe()
        while each(try nextEvent()) {}
    }

    private func exchange(_ line: [UInt8]) throws -> JSONValue {
        try writeAll(line)
        return try readValue(timeout: timeout)
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent >= 0 {
                offset += sent
            } else if errno != EINTR {
                throw closedOrFailed("send to")
            }
        }
    }

    private func readValue(timeout: Duration?) throws -> JSONValue {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            switch input.next() {
            case .line(let line)?:
                guard let value = JSONLine.decode(line) else {
                    throw ControlError(.badMessage, "control socket \(path) sent a line that is not JSON")
                }
                return value
            case .tooLong?:
                throw ControlError(.badMessage, "control socket \(path) sent a line longer than \(input.maxLineBytes) bytes")
            case nil:
                break
            }
            var waitMillis: Int32 = -1
            if let deadline {
                let left = deadline - .now
                guard left > .zero else { throw timedOut(timeout) }
                let (seconds, attoseconds) = left.components
                waitMillis = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, waitMillis)
            if ready < 0, errno == EINTR { continue }
            guard ready >= 0 else { throw closedOrFailed("wait on") }
            guard ready > 0 else { throw timedOut(timeout) }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                input.append(chunk[..<count])
            } else if count == 0 {
                throw ControlError(.connectionClosed, "intercom closed the control connection (\(path))")
            } else if errno != EINTR {
                throw closedOrFailed("read from")
            }
        }
    }

    private func timedOut(_ timeout: Duration?) -> ControlError {
        ControlError(.timeout, "no reply on control socket \(path) within \(timeout.map { "\($0)" } ?? "the timeout")")
    }

    private func closedOrFailed(_ action: String) -> ControlError {
        if errno == EPIPE || errno == ECONNRESET {
            return ControlError(.connectionClosed, "intercom closed the control connection (\(path))")
        }
        return ControlError(.socket, "cannot \(action) control socket \(path): \(String(cString: strerror(errno)))")
    }
}
