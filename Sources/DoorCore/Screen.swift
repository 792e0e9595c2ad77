/// What the device's screen shows. The display module draws each case; the core decides which one.
/// Printing a screen redacts the room secret in a `.room` link (`RoomLink.redact`).
public enum Screen: Sendable, Equatable, CustomStringConvertible {
    /// Nobody at the door: the door's name and "Ring the bell".
    case idle(doorName: String)
    /// A room is open: QR of `link` (the full join link, secret included), the 5-digit `code` in large digits,
    /// the link without its secret in words, and the seconds left.
    case room(code: String, link: String, secondsLeft: Int)
    /// Someone called with only the room code (a knock): ANSWER lets them in, DECLINE refuses; `secondsLeft`
    /// until the knock is refused on its own.
    case knock(peer: String, secondsLeft: Int)
    /// A caller that proved the room's secret waits for ANSWER (when proven callers are not auto-accepted).
    case incomingCall(peer: String, secondsLeft: Int)
    /// The door calls `peer` and waits for its answer (DECLINE cancels); `secondsLeft` until it gives up.
    case calling(peer: String, secondsLeft: Int)
    /// A call is running with the visitor's peer.
    case inCall(peer: String, seconds: Int, muted: Bool)
    /// A household visit: several paired browsers on one call, `peers` in the order they came (their names
    /// once labelled), the call clock and the microphone badge.
    case visit(peers: [String], seconds: Int, muted: Bool)
    /// The call or room ended; `reason` in words.
    case ended(reason: String)
    /// Something is wrong; `message` in words, e.g. "Camera unavailable".
    case error(message: String)
    /// The pairing window: "Pair a phone", the QR of `link` (the whole pairing link, token included), the
    /// seconds left, and "Scan with the phone you want to ring".
    case pairing(link: String, secondsLeft: Int)
    /// A browser was just paired: "Paired: <name>".
    case paired(name: String)

    public var description: String {
        switch self {
        case .idle(let doorName): "idle(\(doorName))"
        case .room(let code, let link, let secondsLeft): "room(\(code), \(RoomLink.redact(link)), \(secondsLeft) s)"
        case .knock(let peer, let secondsLeft): "knock(\(peer), \(secondsLeft) s)"
        case .incomingCall(let peer, let secondsLeft): "incomingCall(\(peer), \(secondsLeft) s)"
        case .calling(let peer, let secondsLeft): "calling(\(peer), \(secondsLeft) s)"
        case .inCall(let peer, let seconds, let muted): "inCall(\(peer), \(seconds) s\(muted ? ", muted" : ""))"
        case .visit(let peers, let seconds, let muted):
            "visit(\(peers.joined(separator: ", ")), \(seconds) s\(muted ? ", muted" : ""))"
        case .ended(let reason): "ended(\(reason))"
        case .error(let message): "error(\(message))"
        case .pairing(let link, let secondsLeft): "pairing(\(RoomLink.redact(link)), \(secondsLeft) s)"
        case .paired(let name): "paired(\(name))"
        }
    }
}

extension Screen {
    /// The same screen with every caller's peer ID replaced by the words `label` gives for it (peer IDs are
    /// random strings nobody at a door should have to read).
    public func labelingCallers(_ label: (String) -> String) -> Screen {
        switch self {
        case .knock(let peer, let secondsLeft): .knock(peer: label(peer), secondsLeft: secondsLeft)
        case .incomingCall(let peer, let secondsLeft): .incomingCall(peer: label(peer), secondsLeft: secondsLeft)
        case .calling(let peer, let secondsLeft): .calling(peer: label(peer), secondsLeft: secondsLeft)
        case .inCall(let peer, let seconds, let muted): .inCall(peer: label(peer), seconds: seconds, muted: muted)
        case .visit(let peers, let seconds, let muted): .visit(peers: peers.map(label), seconds: seconds, muted: muted)
        default: self
        }
    }
}

/// What the screen calls a caller: the `name` the page put in its offer's metadata when it is short, printable
/// text, else "Visitor".
public enum CallerName {
    public static let fallback = "Visitor"
    public static let maxLength = 40

    public static func from(metadata: JSONValue?) -> String {
        guard let raw = metadata?["name"]?.stringValue else { return fallback }
        let cleaned = raw.unicodeScalars.filter { !$0.properties.generalCategory.isControlOrFormat }
        let text = String(String.UnicodeScalarView(cleaned)).trimmingWhitespace()
        guard !text.isEmpty else { return fallback }
        return text.count > maxLength ? String(text.prefix(maxLength - 1)) + "…" : text
    }
}

extension Unicode.GeneralCategory {
    var isControlOrFormat: Bool {
        switch self {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: true
        default: false
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
