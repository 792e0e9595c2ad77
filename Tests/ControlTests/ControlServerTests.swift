import Glibc
import DoorCore
import MainLoop
import Buttons
import Testing
import TestSupport
@testable import Control

/// A server wired the way the executable wires it: `press` goes to simulated buttons, whose presses are
/// published as events; `state` is answered by a stand-in for the core.
private struct Fixture {
    let directory: String
    let path: String
    let server: ControlServer
    let buttons: SimulatedButtons
    let recorder = PressRecorder()

    init() async throws {
        GLibLoop.shared.start()
        directory = try makeScratchDirectory("control-test")
        path = "\(directory)/run/intercom/control.sock"  // parent directories do not exist yet
        let buttons = SimulatedButtons()
        let server = ControlServer(path: path) { request in
            switch request["cmd"]?.stringValue {
            case "state": ["ok": true, "state": ["call": "idle", "room": nil]]
            case "press": buttons.handle(pressRequest: request)
            default: ["ok": false, "error": .string("unknown cmd '\(request["cmd"]?.stringValue ?? "")'")]
            }
        }
        try await server.start()
        let recorder = recorder
        await buttons.start { press in
            recorder.append(press)
            server.publish(["event": "press", "button": .string(press.button.rawValue), "long": .bool(press.long)])
        }
        self.server = server
        self.buttons = buttons
    }

    func tearDown() async {
        await server.stop()
        removeTree(directory)
    }
}

@Suite struct ControlServerTests {
    /// A handler may reply after it returned (a save finished off the loop): the reply still reaches the client.
    @Test func aReplyGivenLaterReachesTheClient() async throws {
        GLibLoop.shared.start()
        let directory = try makeScratchDirectory("control-later")
        let server = ControlServer(path: directory + "/control.sock", replyingLater: { request, reply in
            let command = request["cmd"]?.stringValue ?? ""
            GLibLoop.shared.post { reply(["ok": true, "cmd": .string(command)]) }
        })
        try await server.start()
        let client = try ControlClient(path: directory + "/control.sock")
        #expect(try client.send(["cmd": "later"]) == ["ok": true, "cmd": "later"])
        #expect(try client.send(["cmd": "again"]) == ["ok": true, "cmd": "again"])
        await server.stop()
        removeTree(directory)
    }

    @Test func stateRequestGetsTheHandlersReply() async throws {
        let fixture = try await Fixture()
        let client = try ControlClient(path: fixture.path)
        #expect(try client.send(["cmd": "state"]) == ["ok": true, "state": ["call": "idle", "room": nil]])
        #expect(try client.send(["cmd": "reboot"]) == ["ok": false, "error": "unknown cmd 'reboot'"])
        // A second request on the same connection, answered in order.
        #expect(try client.send(line: #"{"cmd": "state"}"#)["state"]?["call"] == "idle")

        var info = stat()
        #expect(lstat(fixture.path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o660)
        await fixture.tearDown()
        #expect(lstat(fixture.path, &info) != 0)
    }

    @Test func pressCommandReachesTheButtonsAndIsPublished() async throws {
        let fixture = try await Fixture()
        let listener = try ControlClient(path: fixture.path)
        try listener.subscribe()
        #expect(await eventually { fixture.server.subscriberCount == 1 })

        let client = try ControlClient(path: fixture.path)
        #expect(try client.send(["cmd": "press", "button": "doorbell", "long": false]) == ["ok": true])
        #expect(try client.send(["cmd": "press", "button": "mute", "long": true]) == ["ok": true])
        #expect(try client.send(["cmd": "press", "button": "bell"])["ok"] == false)
        #expect(fixture.recorder.all == [ButtonPress(.doorbell), ButtonPress(.mute, long: true)])

        #expect(try listener.nextEvent(timeout: .seconds(5)) == ["event": "press", "button": "doorbell", "long": false])
        #expect(try listener.nextEvent(timeout: .seconds(5)) == ["event": "press", "button": "mute", "long": true])

        await fixture.server.publish(["event": "state", "call": "ringing"])
        #expect(try listener.nextEvent(timeout: .seconds(5)) == ["event": "state", "call": "ringing"])
        // Clients that did not subscribe get no events: the next line on `client` is its own reply.
        #expect(try client.send(["cmd": "state"])["ok"] == true)
        await fixture.tearDown()
    }

    @Test func streamEventsStopsWhenTheCallbackSaysSo() async throws {
        let fixture = try await Fixture()
        let listener = try ControlClient(path: fixture.path)
        let publisher = Task { @GLibActor in
            while fixture.server.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
            for index in 1...5 { fixture.server.publish(["event": "tick", "n": .number(Double(index))]) }
        }
        var seen: [JSONValue] = []
        try listener.streamEvents { event in
            seen.append(event)
            return seen.count < 3
        }
        try await publisher.value
        #expect(seen == [["event": "tick", "n": 1], ["event": "tick", "n": 2], ["event": "tick", "n": 3]])
        await fixture.tearDown()
    }

    @Test func badInputGetsAnErrorAndOthersCarryOn() async throws {
        let fixture = try await Fixture()
        let bystander = try ControlClient(path: fixture.path)
        let client = try ControlClient(path: fixture.path)

        #expect(try client.send(line: "this is not json") == ["ok": false, "error": "invalid JSON"])
        #expect(try client.send(line: #"{"cmd": "state""#) == ["ok": false, "error": "invalid JSON"])
        let noCommand: JSONValue = ["ok": false, "error": "a request is a JSON object with a \"cmd\" string"]
        #expect(try client.send(line: #"{"command": "state"}"#) == noCommand)
        #expect(try client.send(line: "[1, 2, 3]") == noCommand)
        #expect(try client.send(line: #"{"cmd": 42}"#) == noCommand)
        #expect(try client.send(line: "\u{1}\u{ff}\u{0}") == ["ok": false, "error": "invalid JSON"])
        // The connection that sent garbage still works, and so does everyone else.
        #expect(try client.send(["cmd": "state"])["ok"] == true)
        #expect(try bystander.send(["cmd": "state"])["state"]?["call"] == "idle")

        // A line over 64 KiB gets one error and the connection is closed.
        let flooder = try ControlClient(path: fixture.path)
        let reply = try flooder.send(line: String(repeating: "x", count: 70_000))
        #expect(reply["ok"] == false)
        #expect(reply["error"]?.stringValue?.contains("longer than 65536 bytes") == true)
        #expect(throws: ControlError.self) { try flooder.send(["cmd": "state"]) }
        #expect(try bystander.send(["cmd": "state"])["ok"] == true)
        #expect(await eventually { fixture.server.clientCount == 2 })
        await fixture.tearDown()
    }

    @Test func aLastRequestWithoutNewlineIsAnsweredBeforeClosing() async throws {
        let fixture = try await Fixture()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        let address = try UnixSocketAddress(path: fixture.path)
        try #require(address.withSockaddr { connect(fd, $0, $1) } == 0)
        let request = Array(#"{"cmd":"state"}"#.utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        shutdown(fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            received += chunk[..<count]
        }
        #expect(String(decoding: received, as: UTF8.self) == #"{"ok":true,"state":{"call":"idle","room":null}}"# + "\n")
        #expect(await eventually { fixture.server.clientCount == 0 })
        await fixture.tearDown()
    }

    @Test func disconnectedClientsAreCleanedUpAndAtMost32AreServed() async throws {
        let fixture = try await Fixture()
        var clients: [ControlClient] = []
        for _ in 0..<ControlServer.maxClients { clients.append(try ControlClient(path: fixture.path)) }
        #expect(await eventually { fixture.server.clientCount == 32 })

        let extra = try ControlClient(path: fixture.path)
        #expect(try extra.nextEvent(timeout: .seconds(5)) == ["ok": false, "error": "too many clients (32)"])
        #expect(await fixture.server.clientCount == 32)
        #expect(try clients[31].send(["cmd": "state"])["ok"] == true)

        clients.removeLast(10)
        #expect(await eventually { fixture.server.clientCount == 22 })
        clients.removeAll()
        #expect(await eventually { fixture.server.clientCount == 0 })
        await fixture.tearDown()
    }

    @Test func aSubscriberThatStopsReadingIsDroppedAfterOneMebibyte() async throws {
        let fixture = try await Fixture()
        let sleeper = try ControlClient(path: fixture.path)
        try sleeper.subscribe()
        let reader = try ControlClient(path: fixture.path)
        #expect(await eventually { fixture.server.subscriberCount == 1 && fixture.server.clientCount == 2 })

        let padding = JSONValue.string(String(repeating: "p", count: 16 * 1024))
        await fixture.server.publish(["event": "big", "padding": padding])
        #expect(try sleeper.nextEvent(timeout: .seconds(5))["event"] == "big")
        // 3 MiB of events nobody reads: the kernel takes a few hundred KiB, the server buffers up to 1 MiB.
        for _ in 0..<192 { await fixture.server.publish(["event": "big", "padding": padding]) }
        #expect(await eventually { fixture.server.clientCount == 1 })
        #expect(await fixture.server.subscriberCount == 0)
        #expect(try reader.send(["cmd": "state"])["ok"] == true)
        await fixture.tearDown()
    }

    @Test func aMissingSocketSaysIntercomIsNotRunning() throws {
        let path = "/tmp/buttons-test-missing-\(getpid())/control.sock"
        let error = #expect(throws: ControlError.self) { try ControlClient(path: path) }
        #expect(error?.code == .notRunning)
        #expect(error?.description == "control socket \(path) not found — is intercom running?")
    }

    @Test func aStaleSocketIsReplacedButALiveOneIsNot() async throws {
        GLibLoop.shared.start()
        let directory = try makeScratchDirectory("control-test")
        defer { removeTree(directory) }
        let path = "\(directory)/control.sock"

        // A socket file left by a process that died: bound, never unlinked, nobody listening.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(try UnixSocketAddress(path: path).withSockaddr { bind(stale, $0, $1) } == 0)
        close(stale)
        #expect(throws: ControlError.self) { try ControlClient(path: path) }

        let server = ControlServer(path: path) { _ in ["ok": true, "who": "first"] }
        try await server.start()
        #expect(try ControlClient(path: path).send(["cmd": "state"]) == ["ok": true, "who": "first"])

        let second = ControlServer(path: path) { _ in ["ok": true, "who": "second"] }
        await #expect(throws: ControlError(.socket, "control socket \(path) is in use by another process (is intercom already running?)")) {
            try await second.start()
        }
        #expect(try ControlClient(path: path).send(["cmd": "state"]) == ["ok": true, "who": "first"])
        await server.stop()

        let file = "\(directory)/not-a-socket"
        close(open(file, O_CREAT | O_WRONLY, 0o644))
        let third = ControlServer(path: file) { _ in ["ok": true] }
        await #expect(throws: ControlError.self) { try await third.start() }
        var info = stat()
        #expect(lstat(file, &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
    }
}
