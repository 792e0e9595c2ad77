import Admission
import DoorCore
import MainLoop
import Media
import Signaling

/// Everything the door keeps about one media call, keyed by (peer, connectionId), from its OFFER (or the door's
/// own dial) until nothing of it is left: one record instead of a dictionary per field.
struct CallRecord {
    typealias CallID = CallStateMachine.CallID

    let call: CallID
    /// The room registration it came through (the secret-derived ID or the knock ID); nil for a call the door
    /// placed through its home ID.
    var door: RoomGate.Door?
    /// The caller's OFFER, kept until the call is answered, refused or ignored.
    var offer: ConnectionPayload?
    /// The call's media, from answer (or dial) to its end.
    var session: (any CallMedia)?
    /// Whether DTLS used the certificate the SDP's `a=fingerprint` promised; nil until DTLS completes.
    var dtlsVerified: Bool?
    /// A call the door placed: its answer and why it ended unanswered.
    var dial: DialAttempt?
    /// The hang-up LEAVE that waits for the caller's data channels to close first (`Device.sayHangUp`).
    var hangUpLeave: GLibTimer?

    init(call: CallID, door: RoomGate.Door?) {
        self.call = call
        self.door = door
    }

    /// Nothing of the call is left to keep: no offer waiting, no media, no dial, no LEAVE to say.
    var isSpent: Bool { offer == nil && session == nil && dial == nil && hangUpLeave == nil }
}

/// The calls the door knows, answered or placed (`CallRecord`), with the few questions the device asks of them.
@GLibActor
final class CallTable {
    typealias CallID = CallStateMachine.CallID

    private(set) var records: [CallID: CallRecord] = [:]

    subscript(call: CallID) -> CallRecord? {
        get { records[call] }
        set { records[call] = newValue }
    }

    /// Changes the record of `call`, making it if there is none.
    func update(_ call: CallID, door: RoomGate.Door? = nil, _ change: (inout CallRecord) -> Void) {
        var record = records[call] ?? CallRecord(call: call, door: door)
        change(&record)
        records[call] = record
    }

    /// Changes the record of `call` if there is one, and forgets it once it is spent.
    func amend(_ call: CallID, _ change: (inout CallRecord) -> Void) {
        guard var record = records[call] else { return }
        change(&record)
        records[call] = record.isSpent ? nil : record
    }

    func session(_ call: CallID) -> (any CallMedia)? { records[call]?.session }

    /// Every call's session that runs (or has not been told it ended yet).
    var sessions: [(call: CallID, session: any CallMedia)] {
        records.values.compactMap { record in record.session.map { (record.call, $0) } }
    }

    /// Calls the door placed and still tracks.
    var dials: [DialAttempt] { records.values.compactMap(\.dial) }

    /// Whether a hang-up LEAVE still has to go out.
    var sayingHangUps: Bool { records.values.contains { $0.hangUpLeave != nil } }

    /// The room closed: offers that waited for it go, and the records left with nothing.
    func roomClosed() {
        for (call, var record) in records {
            record.offer = nil
            records[call] = record.isSpent ? nil : record
        }
    }
}
