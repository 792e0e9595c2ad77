@testable import Door
import DoorCore
import MainLoop
import Signaling

/// One registration the door made, standing in for a `PeerJSClient`: it records what the door sends through
/// it, and the test delivers frames to it (`deliver`) and opens it (`open`) as the server would.
@GLibActor
final class FakeChannel: SignalingChannel {
    /// The peer ID the door registered.
    let id: String
    var onOpen: (@GLibActor () -> Void)?
    var onMessage: (@GLibActor (PeerJSMessage) -> Void)?
    var onFailure: (@GLibActor (SignalingError) -> Void)?
    private(set) var state: PeerJSClient.State = .connecting
    private(set) var sent: [PeerJSMessage] = []
    private(set) var started = false
    private(set) var stopped = false

    init(id: String) { self.id = id }

    func start() { started = true }

    func stop() {
        stopped = true
        state = .closed
    }

    func send(_ message: PeerJSMessage) { sent.append(message) }

    /// The server said OPEN.
    func open() {
        state = .open
        onOpen?()
    }

    /// A frame from `src` arrives at this registration.
    func deliver(_ type: PeerJSMessage.Kind, from src: String, _ payload: JSONValue?) {
        onMessage?(PeerJSMessage(type: type, src: src, dst: id, payload: payload))
    }

    /// What went to `peer` of one kind, oldest first.
    func sent(_ type: PeerJSMessage.Kind, to peer: String) -> [PeerJSMessage] {
        sent.filter { $0.type == type && $0.dst == peer }
    }
}

/// The signaling seam: every registration the door makes, by peer ID.
@GLibActor
final class FakeSignaling {
    private(set) var channels: [FakeChannel] = []

    /// The newest registration of `id`.
    func channel(_ id: String) -> FakeChannel? { channels.last { $0.id == id } }

    var seam: @GLibActor (PeerJSClient.Options, WebSocketHost) -> any SignalingChannel {
        { [self] options, _ in
            let channel = FakeChannel(id: options.id)
            channels.append(channel)
            return channel
        }
    }
}
