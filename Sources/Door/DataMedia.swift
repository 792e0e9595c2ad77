import MainLoop
import Media

/// What a `DataLink` drives of one data connection's webrtcbin: the part of `DataSession` it uses. Everything
/// the connection reports comes back as one `DataSession.Event` through `onEvent`, `.closed` last and once.
/// `DoorTests` use a recording fake whose events the test fires (answer SDP, open, messages, closed).
@GLibActor
protocol DataMedia: AnyObject {
    var onEvent: (@GLibActor (DataSession.Event) -> Void)? { get set }
    /// The channel is open: `send` works.
    var isOpen: Bool { get }
    /// Builds the pipeline: offers (`.offer` follows) or answers (`.answer` follows).
    func start() throws(MediaError)
    /// Offering: the peer's answer.
    func setRemoteAnswer(_ sdp: String) throws(MediaError)
    func addRemoteCandidate(mline: Int, candidate: String)
    func send(text: String) -> Bool
    func send(bytes: [UInt8]) -> Bool
    /// Closes the channel and then the pipeline (`.closed` follows, from the loop).
    func close()
}

extension DataSession: DataMedia {}
