import Glibc
import DoorCore
import MainLoop
import Synchronization
import Testing
@testable import Signaling

/// The client against the built-in server, both on the GLib loop, over real loopback sockets.
@Suite(.serialized) struct PeerJSClientTests {
    init() { GLibLoop.shared.start() }

    @Test func registersAndGetsOpen() async throws {
        let h = try await Harness()
        let client = await h.client("door-1")
        #expect(await eventually { client.state == .open && h.opens["door-1"] == 1 })
        #expect(await h.server?.registeredIDs == ["door-1"])
        await h.stop()
    }

    @Test func anIDThatStaysTakenIsReportedAfterTheRetries() async throws {
        let h = try await Harness()
        let holder = await h.client("door-2", token: "holder")
        #expect(await eventually { holder.state == .open })
        let late = await h.client("door-2", token: "other", idTakenRetries: 2)
        #expect(await eventually(within: .seconds(10)) { h.failures["door-2"] != nil })
        #expect(await h.failures["door-2"]?.code == .idTaken)
        #expect(await late.state == .closed)
        #expect(await holder.state == .open)
        await h.stop()
    }

    @Test func anIDFreedDuringTheRetriesIsReclaimed() async throws {
        let h = try await Harness()
        let holder = await h.client("door-3", token: "holder")
        #expect(await eventually { holder.state == .open })
        let late = await h.client("door-3", token: "mine", idTakenRetries: 5, backoff: ReconnectBackoff(initialMillis: 600))
        // The first ID-TAKEN arrives; then the holder goes and the next retry registers.
        #expect(await eventually { late.state == .connecting && h.server?.registeredIDs == ["door-3"] })
        await holder.stop()
        #expect(await eventually(within: .seconds(10)) { late.state == .open })
        #expect(await h.failures["door-3"] == nil)
        await h.stop()
    }

    @Test func aWrongKeyIsAServerError() async throws {
        let h = try await Harness()
        _ = await h.client("door-4", key: "not-the-key")
        #expect(await eventually { h.failures["door-4"] != nil })
        #expect(await h.failures["door-4"] == SignalingError(.serverError, "Invalid key provided"))
        await h.stop()
    }

    @Test func expireFromTheServerReachesTheOwner() async throws {
        let h = try await Harness(expireTimeoutMillis: 200)
        let client = await h.client("door-5")
        #expect(await eventually { client.state == .open })
        await client.send(PeerJSMessage(type: .offer, dst: "nobody-here", payload: ["connectionId": "mc_1"]))
        #expect(await eventually(within: .seconds(5)) { h.messages["door-5"]?.contains { $0.type == .expire } == true })
        #expect(await h.messages["door-5"]?.first { $0.type == .expire }?.src == "nobody-here")
        await h.stop()
    }

    /// The server goes away and comes back on the same port with no memory: the client reconnects with the
    /// same token and is registered (and reachable) again.
    @Test func reconnectsWithTheSameTokenAfterAServerRestart() async throws {
        let h = try await Harness()
        let client = await h.client("door-6", token: "sametoken")
        #expect(await eventually { client.state == .open })
        try await h.restartServer()
        let started = ContinuousClock.now
        #expect(await eventually(within: .seconds(10)) { h.server?.registeredIDs == ["door-6"] && client.state == .open })
        Log.info("test", "registered again \(ContinuousClock.now - started) after the restart")
        #expect(await client.reconnects == 1)
        #expect(await client.options.token == "sametoken")
        await h.stop()
    }
}

/// One server host and one client host on loopback, and what the clients reported.
@GLibActor
final class Harness {
    let port: Int
    private(set) var serverHost: WebSocketHost?
    private(set) var server: PeerServer?
    let clientHost: WebSocketHost
    private let expireTimeoutMillis: Int64
    private var clients: [PeerJSClient] = []
    var opens: [String: Int] = [:]
    var failures: [String: SignalingError] = [:]
    var messages: [String: [PeerJSMessage]] = [:]

    init(expireTimeoutMillis: Int64 = 5000) throws {
        port = freePort()
        self.expireTimeoutMillis = expireTimeoutMillis
        clientHost = try WebSocketHost(listen: nil)
        try startServer()
    }

    func startServer() throws {
        let host = try WebSocketHost(listen: (host: "127.0.0.1", port: port))
        var settings = PeerServer.Settings()
        settings.core.expireTimeoutMillis = expireTimeoutMillis
        server = PeerServer(host: host, settings: settings)
        serverHost = host
    }

    func restartServer() throws {
        server = nil
        serverHost = nil
        try startServer()
    }

    func client(_ id: String, token: String = PeerJSClient.randomToken(), key: String = "peerjs",
                idTakenRetries: Int = 3, backoff: ReconnectBackoff = ReconnectBackoff(initialMillis: 50, maximumMillis: 400))
        -> PeerJSClient {
        var options = PeerJSClient.Options(server: WebSocketURL(secure: false, host: "127.0.0.1", port: port, path: "/"),
                                           id: id, token: token)
        options.key = key
        options.idTakenRetries = idTakenRetries
        options.backoff = backoff
        let client = PeerJSClient(host: clientHost, options: options)
        client.onOpen = { [weak self] in self?.opens[id, default: 0] += 1 }
        client.onFailure = { [weak self] error in self?.failures[id] = error }
        client.onMessage = { [weak self] message in self?.messages[id, default: []].append(message) }
        clients.append(client)
        client.start()
        return client
    }

    func stop() {
        clients.forEach { $0.stop() }
        clients = []
        server = nil
        serverHost = nil
    }
}

/// Polls `condition` on the GLib loop until it holds or `timeout` passes.
func eventually(within timeout: Duration = .seconds(5), _ condition: @escaping @GLibActor () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// A TCP port nobody listens on right now.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length)
            return getsockname(fd, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
