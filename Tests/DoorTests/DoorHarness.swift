import Admission
import Control
@testable import Door
import DoorCore
import MainLoop
import Signaling
import Synchronization
import Testing
import TestSupport

/// A whole door (`Device`) with fake signaling and media (`FakeSignaling`, `FakeMedia`) and everything else
/// real: the state machine, the room gate, the call table, the control socket, the snapshot screen. The test
/// speaks for the browser through the fake registrations, for the pipeline through the fake calls, and for the
/// person at the door through the control socket, whose event stream it reads as `ctl events` would.
final class DoorHarness {
    /// A fresh nonce per call, as a page makes one (16 base64url characters).
    static func nonce(_ connectionId: String) -> String { String(("nonce" + connectionId + "AAAAAAAAAAAAAAAA").prefix(16)) }
    static let offerSDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AA:BB\r\n"
        + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v1\r\n"

    let directory: String
    let device: Device
    let signaling: FakeSignaling
    let media: FakeMedia
    let notifier: FakeNotifier
    /// Requests, as `ctl` sends them.
    let ctl: ControlClient
    /// The event stream (`ctl events`).
    private let events: ControlClient
    /// Every event read so far, in order.
    private(set) var seen: [JSONValue] = []
    private let exited = ExitFlag()

    init(_ configure: (inout DeviceOptions) -> Void = { _ in }) async throws {
        GLibLoop.shared.start()
        directory = try makeScratchDirectory("door-test")
        var configuration = Configuration()
        configuration.paths.state = directory + "/state"
        var options = DeviceOptions(configuration)
        options.listen = nil
        options.signaling = "ws://127.0.0.1:9/"
        options.webRoot = nil
        options.controlPath = directory + "/control.sock"
        options.display.mode = .snapshot
        options.display.snapshotDirectory = directory + "/snapshots"
        configure(&options)
        let exited = exited
        let made = try await { @GLibActor [options] in
            let signaling = FakeSignaling()
            let media = FakeMedia()
            let notifier = FakeNotifier()
            let seams = DeviceSeams(signaling: signaling.seam, media: { _ in media }, notifier: { _ in notifier })
            let device = try Device(options: options, seams: seams) { exited.set() }
            return (signaling, media, notifier, device)
        }()
        (signaling, media, notifier, device) = made
        events = try ControlClient(path: options.controlPath)
        try events.subscribe()
        ctl = try ControlClient(path: options.controlPath)
        let device = device
        guard await eventually({ device.control?.subscriberCount == 1 }) else { throw HarnessError("no event stream") }
    }

    /// Stops the door as SIGTERM does and waits until it says it stopped.
    func stop() async {
        await { @GLibActor [device] in device.shutdown() }()
        let stopped = await eventuallyHere { exited.isSet }
        #expect(stopped, "the door did not stop")
        removeTree(directory)
    }

    /// The next event called `name` (and, with `matching`, whose fields match), skipping others; nil if none
    /// comes within 5 s (the screen of a running call publishes every second, so the bound is on the whole wait).
    func next(_ name: String, matching: [String: JSONValue] = [:]) -> JSONValue? {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline,
              let event = try? events.nextEvent(timeout: max(.milliseconds(1), deadline - ContinuousClock.now)) {
            seen.append(event)
            if event["event"]?.stringValue == name, matching.allSatisfy({ event[$0.key] == $0.value }) { return event }
        }
        return nil
    }

    /// Runs `body` on the loop, where the door and the fakes live.
    func onLoop<T: Sendable>(_ body: @escaping @GLibActor (Device, FakeSignaling, FakeMedia) throws -> T) async rethrows -> T {
        try await { @GLibActor [device, signaling, media] in try body(device, signaling, media) }()
    }

    // MARK: - Rooms

    /// The doorbell opens a room; its registrations come up. Returns the room's and the knock's peer IDs.
    func openRoom() async throws -> (room: String, knock: String) {
        #expect(try ctl.send(["cmd": "press", "button": "doorbell"]) == ["ok": true])
        guard next("room-opened") != nil else { throw HarnessError("no room opened") }
        return try await onLoop { device, signaling, _ in
            guard let gate = device.room?.gate, let room = signaling.channel(gate.roomPeerID),
                  let knock = signaling.channel(gate.knockPeerID) else { throw HarnessError("no room registrations") }
            #expect(room.started && knock.started)
            room.open()
            knock.open()
            return (gate.roomPeerID, gate.knockPeerID)
        }
    }

    /// An OFFER to the room's ID that carries the proof a page with the link computes.
    @GLibActor
    static func provedOffer(_ device: Device, from peer: String, connectionId: String, sdp: String = offerSDP) -> JSONValue {
        let room = device.room!
        let binding = JoinMAC.Binding(roomPeerID: room.gate.roomPeerID, callerPeerID: peer, connectionId: connectionId,
                                      nonce: nonce(connectionId))
        let proof = JoinMAC.offerProof(nonce: nonce(connectionId), mac: JoinMAC.offerMAC(RoomKeys(secret: room.link.secret), binding,
                                                                          offerSDP: sdp))
        return ConnectionPayload(sdp: SessionDescription(type: "offer", sdp: sdp), type: .media, connectionId: connectionId,
                                 metadata: ["client": "intercom-web", "name": "Ada", "proof": proof]).json
    }

    /// The ANSWER proof a proved caller checks: the MAC over its offer and the door's answer.
    @GLibActor
    static func answerProof(_ device: Device, to peer: String, connectionId: String, answerSDP: String) -> JSONValue {
        let room = device.room!
        let binding = JoinMAC.Binding(roomPeerID: room.gate.roomPeerID, callerPeerID: peer, connectionId: connectionId,
                                      nonce: nonce(connectionId))
        return JoinMAC.answerProof(mac: JoinMAC.answerMAC(RoomKeys(secret: room.link.secret), binding,
                                                          offerSDP: offerSDP, answerSDP: answerSDP))
    }

    /// A room caller with the link (`page-1`, `mc_1`) answered: the OFFER arrives, the door makes a session.
    func answeredCall(from peer: String = "page-1", connectionId: String = "mc_1") async throws -> String {
        let ids = try await openRoom()
        try await onLoop { device, signaling, _ in
            signaling.channel(ids.room)!.deliver(.offer, from: peer,
                                                 Self.provedOffer(device, from: peer, connectionId: connectionId))
        }
        guard next("call-started") != nil else { throw HarnessError("the call did not start") }
        return ids.room
    }

    /// The CANDIDATE payload a page sends.
    static func candidate(_ n: Int, connectionId: String, mline: Int = 0) -> JSONValue {
        CandidatePayload(candidate: "candidate:\(n) 1 udp 2122260223 192.0.2.\(n) 5\(n)000 typ host", sdpMid: nil,
                         sdpMLineIndex: mline, type: .media, connectionId: connectionId).json
    }
}

/// The whole-door flows, one at a time: each holds a thread of the test pool in blocking control-socket reads,
/// so running them serially leaves the rest of the pool (two threads on a 2-core machine) to the other suites.
@Suite(.serialized) enum DoorFlows {}

/// Set once, from the loop, when the door says it stopped.
final class ExitFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
