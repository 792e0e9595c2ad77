import Admission
import DoorCore
import Signaling

/// The open room, as one value: its link (which carries the secret), who may join it (`RoomGate`, which holds
/// the room's keys) and its two registrations. The device holds one while a room is open and drops it whole
/// when the room closes, so the secret, the keys and the nonces go together.
struct OpenRoom {
    let link: RoomLink
    var gate: RoomGate
    /// The secret-derived peer ID's registration.
    var client: (any SignalingChannel)?
    /// The knock peer ID's registration (prefix + code).
    var knockClient: (any SignalingChannel)?

    init(link: RoomLink, gate: RoomGate) {
        self.link = link
        self.gate = gate
    }

    /// The registration of one of the room's two doors.
    func client(for door: RoomGate.Door) -> (any SignalingChannel)? { door == .knock ? knockClient : client }
}
