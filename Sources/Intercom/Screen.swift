/// What the device's screen shows. The display module draws each case; the core decides which one.
public enum Screen: Sendable, Equatable {
    /// Nobody at the door: the door's name and "Ring the bell".
    case idle(doorName: String)
    /// A room is open: QR of `link`, the 5-digit `code` in large digits, and the seconds left.
    case room(code: String, link: String, secondsLeft: Int)
    /// Someone called with only the room code (a knock): ANSWER lets them in, DECLINE refuses; `secondsLeft`
    /// until the knock is refused on its own.
    case knock(peer: String, secondsLeft: Int)
    /// A caller that proved the room's secret waits for ANSWER (when proven callers are not auto-accepted).
    case incomingCall(peer: String, secondsLeft: Int)
    /// A call is running with the visitor's peer.
    case inCall(peer: String, seconds: Int, muted: Bool)
    /// The call or room ended; `reason` in words.
    case ended(reason: String)
    /// Something is wrong; `message` in words, e.g. "Camera unavailable".
    case error(message: String)
}
