import DoorCore
import MainLoop
import Testing
@testable import Signaling

/// A `WebSocketHost` released while its sockets are open tells their delegates, and libwebsockets' shutdown,
/// which it finishes on later GLib loop turns, leaves the process serving. (The crash that shutdown caused with
/// lws 4.1 — callbacks for a freed host, a return into the unloaded event-loop plugin — showed in
/// PeerJSClientTests, about one run in three, and not in this simpler sequence.)
@Suite(.serialized) struct WebSocketHostTests {
    init() { GLibLoop.shared.start() }

    @Test func hostsReleasedWithOpenSocketsTellTheirDelegatesAndTheProcessGoesOn() async throws {
        for round in 1...20 {
            var pair: HostPair? = try await HostPair()
            let (server, client) = (pair!.serverEnd, pair!.clientEnd)
            #expect(await eventually { server.opened && client.opened }, "round \(round): the WebSocket never opened")
            // Both hosts go at once, from off the loop (their deinit hops to it), with the socket open: the
            // last context lws has shuts down, and its event-loop plugin with it.
            pair = nil
            #expect(await eventually { server.closed != nil && client.closed != nil },
                    "round \(round): the end never reached both sides")
            #expect(await server.closed == "the WebSocket host shut down", "round \(round)")
        }
        // The loop still runs and new hosts still work after every shutdown above finished.
        let pair = try await HostPair()
        let client = pair.clientEnd
        #expect(await eventually { client.opened })
    }

    /// The lifecycle's "web server" stop: `shutDown` with a socket open tells both ends, frees the port for the
    /// next start, and a later `connect` through the stopped host fails with a reason instead of crashing.
    @Test func shutDownClosesSocketsFreesThePortAndRefusesLaterConnects() async throws {
        let pair = try await HostPair()
        let (server, client) = (pair.serverEnd, pair.clientEnd)
        #expect(await eventually { server.opened && client.opened }, "the WebSocket never opened")
        await pair.shutDownServer()
        #expect(await eventually { server.closed != nil && client.closed != nil }, "the end never reached both sides")
        #expect(await server.closed == "the WebSocket host shut down")
        let late = await pair.connectThroughStoppedServer()
        #expect(await eventually { late.closed != nil }, "a connect through a stopped host was never answered")
        #expect(await late.closed == "the WebSocket host shut down")
        // lws finishes closing the listener on later loop turns: the port is free soon, not necessarily now.
        var again: HostPair?
        let deadline = ContinuousClock.now + .seconds(5)
        while again == nil, ContinuousClock.now < deadline {
            again = try? await HostPair(port: pair.port)
            if again == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let reopened = try #require(again, "the port was never free after shutDown").clientEnd
        #expect(await eventually { reopened.opened }, "the port was not free after shutDown")
    }
}

/// A server host and a client host on loopback with one WebSocket open between them.
@GLibActor final class HostPair {
    let serverEnd = SocketRecorder()
    let clientEnd = SocketRecorder()
    private let handler: AcceptEverything
    private let server: WebSocketHost
    private let client: WebSocketHost
    private let socket: WebSocketConnection
    let port: Int

    init(port: Int? = nil) throws {
        let listening = try port.map { try Self.listen(on: $0) } ?? Self.listenOnAFreePort()
        server = listening.host
        self.port = listening.port
        handler = AcceptEverything(recorder: serverEnd)
        server.serverHandler = handler
        client = try WebSocketHost(listen: nil)
        socket = client.connect(WebSocketURL(secure: false, host: "127.0.0.1", port: self.port, path: "/"),
                                pathAndQuery: "ws", delegate: clientEnd)
    }

    func shutDownServer() { server.shutDown() }

    /// A port found free can be taken before the host listens (twenty rounds of connections leave many in
    /// TIME_WAIT): a few tries, each on a newly found port.
    private static func listenOnAFreePort() throws -> (host: WebSocketHost, port: Int) {
        for _ in 1..<5 {
            if let listening = try? listen(on: freePort()) { return listening }
        }
        return try listen(on: freePort())
    }

    private static func listen(on port: Int) throws -> (host: WebSocketHost, port: Int) {
        (try WebSocketHost(listen: (host: "127.0.0.1", port: port)), port)
    }

    /// A dial through the stopped server host; what it is told.
    func connectThroughStoppedServer() -> SocketRecorder {
        let recorder = SocketRecorder()
        lateSockets.append(server.connect(WebSocketURL(secure: false, host: "127.0.0.1", port: port, path: "/"),
                                          pathAndQuery: "ws", delegate: recorder))
        lateRecorders.append(recorder)
        return recorder
    }

    private var lateSockets: [WebSocketConnection] = []
    private var lateRecorders: [SocketRecorder] = []
}

/// Takes every WebSocket on any path and records what happens to it.
@GLibActor final class AcceptEverything: WebSocketServerHandler {
    let recorder: SocketRecorder
    private var sockets: [WebSocketConnection] = []

    init(recorder: SocketRecorder) { self.recorder = recorder }

    func handleHTTP(path: String) -> HTTPResponse { .text(404, "not found\n") }
    func acceptsWebSocket(path: String, origin: String?, host: String?) -> Bool { true }
    func webSocketConnected(_ socket: WebSocketConnection, path: String, query: [String: String]) {
        socket.delegate = recorder
        sockets.append(socket)
        recorder.opened = true
    }
}

/// What one side of a WebSocket was told.
@GLibActor final class SocketRecorder: WebSocketDelegate {
    var opened = false
    var closed: String?

    func webSocketDidOpen(_ socket: WebSocketConnection) { opened = true }
    func webSocket(_ socket: WebSocketConnection, didReceive text: String) {}
    func webSocketDidClose(_ socket: WebSocketConnection, error: String?) { closed = error ?? "closed" }
}
