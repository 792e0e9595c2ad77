@testable import Door
import DoorCore
import MainLoop
import Media

/// A media call standing in for a `CallSession`: it records what the door asks of it, and the test fires the
/// events a pipeline would report (`fire`). Like the real one it ends once, after the call that ends it returns.
@GLibActor
final class FakeCall: CallMedia {
    let call: CallStateMachine.CallID
    /// The caller's offer for an answered call; nil for one the door placed.
    let offerSDP: String?
    var onEvent: (@GLibActor (CallSession.Event) -> Void)?
    private(set) var isEnded = false
    var hangUpHeardInBand = false
    var lostAfterSilenceMillis: Int64?
    let counters = MediaCounters()
    var peer: String { call.peer }
    private(set) var started = false
    private(set) var remoteCandidates: [(mline: Int, candidate: String)] = []
    private(set) var remoteAnswer: String?
    private(set) var hangUps = 0
    private(set) var peerHangUps: [String] = []
    private(set) var muted: Bool?
    private var ending: GLibTimer?

    init(call: CallStateMachine.CallID, offerSDP: String?) {
        self.call = call
        self.offerSDP = offerSDP
    }

    func start() throws(MediaError) { started = true }
    func addRemoteCandidate(mline: Int, candidate: String) { remoteCandidates.append((mline, candidate)) }
    func setRemoteAnswer(_ sdp: String) throws(MediaError) { remoteAnswer = sdp }
    func setMicrophoneMuted(_ muted: Bool) { self.muted = muted }
    func setCameraOff(_ off: Bool) {}
    func requestKeyframe() {}

    func hangUp() {
        hangUps += 1
        end(.localHangUp, nil)
    }

    func peerHungUp(_ detail: String) {
        peerHangUps.append(detail)
        end(.remoteHangUp, detail)
    }

    /// What the pipeline would report.
    func fire(_ event: CallSession.Event) { onEvent?(event) }

    /// The real session reports its end from the loop after stopping its pipeline, never inside the call.
    func end(_ reason: CallSession.EndReason, _ detail: String?) {
        guard !isEnded, ending == nil else { return }
        ending = GLibTimer(milliseconds: 0) { [weak self] in
            guard let self, !isEnded else { return }
            isEnded = true
            let report = onEvent
            onEvent = nil
            report?(.ended(reason, detail: detail))
        }
    }
}

/// The media seam: hands out `FakeCall`s and `FakeData`, and counts the warm pipeline's starts and stops.
@GLibActor
final class FakeMedia: MediaSessions {
    private(set) var calls: [FakeCall] = []
    private(set) var data: [FakeData] = []
    private(set) var warmUps = 0
    private(set) var coolDowns = 0

    func answering(_ call: CallStateMachine.CallID, offerSDP: String) throws(MediaError) -> any CallMedia {
        let fake = FakeCall(call: call, offerSDP: offerSDP)
        calls.append(fake)
        return fake
    }

    func calling(_ call: CallStateMachine.CallID) -> any CallMedia {
        let fake = FakeCall(call: call, offerSDP: nil)
        calls.append(fake)
        return fake
    }

    func answeringData(_ connection: CallStateMachine.CallID, offerSDP: String) throws(MediaError) -> any DataMedia {
        // As `DataSession`: only a data connection's offer is taken.
        guard offerSDP.contains("m=application") else { throw MediaError(.badOffer, "no m=application section") }
        let fake = FakeData(connection: connection, offerSDP: offerSDP, label: nil)
        data.append(fake)
        return fake
    }

    func offeringData(_ connection: CallStateMachine.CallID, label: String, ordered: Bool) -> any DataMedia {
        let fake = FakeData(connection: connection, offerSDP: nil, label: label)
        data.append(fake)
        return fake
    }

    func warmUp() { warmUps += 1 }
    func coolDown() { coolDowns += 1 }
    /// No camera here: a ring goes without a picture, a visit without a clip.
    func grabStill(_ done: @escaping @Sendable @GLibActor (Still?) -> Void) { done(nil) }
    func startClip(path: String, maxSeconds: Double, withAudio: Bool,
                   onDetached: @escaping @Sendable (ClipRecorder.Summary) -> Void) throws(MediaError) -> ClipRecorder? { nil }
    func clipEnded() {}

    /// The newest session made for `peer`.
    func call(with peer: String) -> FakeCall? { calls.last { $0.peer == peer } }

    /// The newest data connection made with `peer` (and, given, of that connectionId).
    func data(with peer: String, connectionId: String? = nil) -> FakeData? {
        data.last { $0.peer == peer && (connectionId == nil || $0.connection.connectionId == connectionId) }
    }
}
