import DoorCore

/// Which peers of the current ring are paired browsers that proved their pairing (their ring link's `hello`
/// held, docs/pairing.md), with the names they were paired under. Their offers to the room are household
/// answers and joins (`CallStateMachine.Event.pairedOffer`); the names label the door's visit screen and the
/// control socket's `visit` state. Forgotten when the room closes.
struct HouseholdRoster {
    private var proven: [String: String] = [:]

    /// `peer` proved the pairing named `name` on this ring's link.
    mutating func proved(peer: String, name: String) { proven[peer] = name }

    /// The pairing name of a peer that proved itself in this ring, or nil.
    func name(of peer: String) -> String? { proven[peer] }

    mutating func forget() { proven.removeAll() }
}
