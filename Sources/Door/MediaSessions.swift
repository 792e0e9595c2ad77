import DoorCore
import MainLoop
import Media

/// Where the door's media calls and data connections come from: `MediaEngine` makes real `CallSession`s on its
/// pipelines and `DataSession`s; `DoorTests` hand out recording fakes instead. Also the warm pipeline an open
/// room keeps ready.
@GLibActor
protocol MediaSessions: AnyObject {
    /// A session that answers `offerSDP` from `call.peer` (nothing runs until `start`).
    func answering(_ call: CallStateMachine.CallID, offerSDP: String) throws(MediaError) -> any CallMedia
    /// A session that offers to `call.peer` (the door dials).
    func calling(_ call: CallStateMachine.CallID) -> any CallMedia
    /// A data connection that answers `offerSDP` from `connection.peer`; throws for an offer that is not a
    /// data connection's (one `m=application` section). Nothing runs until `start`.
    func answeringData(_ connection: CallStateMachine.CallID, offerSDP: String) throws(MediaError) -> any DataMedia
    /// A data connection that offers to `connection.peer`, with a channel labelled `label` (`ordered` is
    /// PeerJS's `reliable`).
    func offeringData(_ connection: CallStateMachine.CallID, label: String, ordered: Bool) -> any DataMedia
    /// A visitor is coming: have the sending pipeline ready.
    func warmUp()
    /// The same, and `ready` once the pipeline runs (or will not): the ring's still and a visit's clip come from it.
    func warmUp(then ready: @escaping @GLibActor () -> Void)
    /// No visitor any more: let the camera go.
    func coolDown()
    /// One still from the camera the warm pipeline runs (nil when none runs): the ring picture.
    func grabStill(_ done: @escaping @Sendable @GLibActor (Still?) -> Void)
    /// A visit's clip from the warm pipeline's encoded stream (nil when none runs): VisitKeeper.
    func startClip(path: String, maxSeconds: Double, withAudio: Bool,
                   onDetached: @escaping @Sendable (ClipRecorder.Summary) -> Void) throws(MediaError) -> ClipRecorder?
    /// The clip is over: the warm pipeline may let its encoder idle again.
    func clipEnded()
}

extension MediaEngine: MediaSessions {
    func answering(_ call: CallStateMachine.CallID, offerSDP: String) throws(MediaError) -> any CallMedia {
        try CallSession(peer: call.peer, connectionId: call.connectionId, offerSDP: offerSDP, engine: self)
    }

    func calling(_ call: CallStateMachine.CallID) -> any CallMedia {
        CallSession(calling: call.peer, connectionId: call.connectionId, engine: self)
    }

    func answeringData(_ connection: CallStateMachine.CallID, offerSDP: String) throws(MediaError) -> any DataMedia {
        try DataSession(peer: connection.peer, connectionId: connection.connectionId, offerSDP: offerSDP)
    }

    func offeringData(_ connection: CallStateMachine.CallID, label: String, ordered: Bool) -> any DataMedia {
        DataSession(peer: connection.peer, connectionId: connection.connectionId, label: label, ordered: ordered)
    }
}

extension MediaSessions {
    /// Fakes start nothing in the background: ready at once.
    func warmUp(then ready: @escaping @GLibActor () -> Void) {
        warmUp()
        ready()
    }
}
