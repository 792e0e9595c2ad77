import MainLoop
import Signaling

/// What the door needs of one registration on the signaling server: start it, stop it, send a PeerJS message
/// through it and hear what arrives. `PeerJSClient` is the real one; `DoorTests` put a recording fake here, so a
/// whole call can be driven without a server or a browser.
@GLibActor
protocol SignalingChannel: AnyObject {
    /// Registered (OPEN, or re-attached after a reconnect).
    var onOpen: (@GLibActor () -> Void)? { get set }
    /// OFFER, ANSWER, CANDIDATE, LEAVE and EXPIRE addressed to this registration.
    var onMessage: (@GLibActor (PeerJSMessage) -> Void)? { get set }
    /// The registration stopped for good (INVALID-KEY, an ID someone else holds).
    var onFailure: (@GLibActor (SignalingError) -> Void)? { get set }
    var state: PeerJSClient.State { get }
    func start()
    func stop()
    func send(_ message: PeerJSMessage)
}

extension PeerJSClient: SignalingChannel {}
