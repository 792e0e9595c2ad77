import DoorCore
import MainLoop
import Media

/// Where the door's media calls come from: `MediaEngine` makes real `CallSession`s on its pipelines;
/// `DoorTests` hand out recording fakes instead. Also the warm pipeline an open room keeps ready.
@GLibActor
protocol MediaSessions: AnyObject {
    /// A session that answers `offerSDP` from `call.peer` (nothing runs until `start`).
    func answering(_ call: CallStateMachine.CallID, offerSDP: String) throws(MediaError) -> any CallMedia
    /// A session that offers to `call.peer` (the door dials).
    func calling(_ call: CallStateMachine.CallID) -> any CallMedia
    /// A visitor is coming: have the sending pipeline ready.
    func warmUp()
    /// No visitor any more: let the camera go.
    func coolDown()
}

extension MediaEngine: MediaSessions {
    func answering(_ call: CallStateMachine.CallID, offerSDP: String) throws(MediaError) -> any CallMedia {
        try CallSession(peer: call.peer, connectionId: call.connectionId, offerSDP: offerSDP, engine: self)
    }

    func calling(_ call: CallStateMachine.CallID) -> any CallMedia {
        CallSession(calling: call.peer, connectionId: call.connectionId, engine: self)
    }
}
