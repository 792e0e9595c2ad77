import MainLoop
import Media

/// What the door drives of one media call, answered or placed: the part of `CallSession` that `Device` uses.
/// Everything the call reports comes back as one `CallSession.Event` through `onEvent`. `DoorTests` use a
/// recording fake whose events the test fires (answer SDP, candidates, connected, ended).
@GLibActor
protocol CallMedia: AnyObject {
    var onEvent: (@GLibActor (CallSession.Event) -> Void)? { get set }
    /// The session has reported `.ended` (or is about to): no further media, no second end.
    var isEnded: Bool { get }
    /// The caller's data channel is open, so a page hears the hang-up in band.
    var hangUpHeardInBand: Bool { get }
    /// How long the peer had been silent when the call was given up as lost.
    var lostAfterSilenceMillis: Int64? { get }
    var counters: MediaCounters { get }
    /// The PeerJS peer ID at the other end.
    var peer: String { get }
    func start() throws(MediaError)
    func addRemoteCandidate(mline: Int, candidate: String)
    /// A placed call: the peer's answer.
    func setRemoteAnswer(_ sdp: String) throws(MediaError)
    /// The door ends the call (`.ended(.localHangUp)` follows).
    func hangUp()
    /// The peer ended the call (`.ended(.remoteHangUp)` follows).
    func peerHungUp(_ detail: String)
    func setMicrophoneMuted(_ muted: Bool)
    func setCameraOff(_ off: Bool)
    func requestKeyframe()
}

extension CallSession: CallMedia {}
