/// The join link of one room: `<web base>/?room=<code>#k=<secret>`, and `&t=<expiry>.<credential>` when the
/// door mints TURN credentials from a shared secret (`RoomTURN`). The code is in the query (people read it;
/// the server may see it), the secret and the TURN credential only in the fragment, which browsers keep to
/// themselves.
///
/// The full link is a bearer capability: it goes to the QR code and to notification targets (`url`), and
/// nowhere else. Printing a `RoomLink` — string interpolation, a log line, the control socket's `state` —
/// gives the `redacted` form, `…/?room=12345#k=…`.
public struct RoomLink: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let code: String
    public let secret: RoomSecret
    /// This ring's TURN credential, or nil.
    public let turn: RoomTURN?
    /// `<web base>/?room=<code>`: what a person may type; it reaches the door only as a knock.
    public let withoutSecret: String

    public init(webBase: String, code: String, secret: RoomSecret, turn: RoomTURN? = nil) {
        self.code = code
        self.secret = secret
        self.turn = turn
        withoutSecret = (webBase.hasSuffix("/") ? webBase : webBase + "/") + "?room=" + code
    }

    /// The whole link, secret included: for the QR code and the notification targets only.
    public var url: String { withoutSecret + "#k=" + secret.base64url + (turn.map { "&t=" + $0.fragmentValue } ?? "") }

    /// Safe to log: the secret (and the TURN credential) replaced by `…`.
    public var redacted: String { withoutSecret + "#k=…" + (turn == nil ? "" : "&t=…") }

    public var description: String { redacted }
    public var debugDescription: String { "RoomLink(\(redacted))" }

    /// Any text with a `#k=` (room secret) or `#p=` (pairing token) fragment or a `&t=` TURN credential, each
    /// value replaced by `…` (for text that may hold a link, e.g. a URL).
    public static func redact(_ text: String) -> String {
        let marks = ["#k=", "#p=", "&t="].compactMap { text.firstRange(of: $0) }
        guard let range = marks.min(by: { $0.lowerBound < $1.lowerBound }) else { return text }
        let tail = text[range.upperBound...]
        let end = tail.firstIndex(where: { !($0.isLetter || $0.isNumber || "-_.".contains($0)) }) ?? tail.endIndex
        return String(text[..<range.upperBound]) + "…" + redact(String(tail[end...]))
    }
}

/// A TURN credential for one ring, minted by the door from a TURN server's shared secret (TURN REST: username
/// `<expiry>:room`, credential base64(HMAC-SHA1(secret, username))). It travels in the join link's fragment as
/// `t=<expiry>.<credential in base64url>`, so a page hosted elsewhere can relay without any server seeing it.
public struct RoomTURN: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The name in the username: coturn logs it, which tells a room's relay use from the door's and a served
    /// page's (`door`, `page`).
    public static let name = "room"
    /// Unix seconds after which the TURN server refuses the credential.
    public let expiry: Int
    /// base64, as the TURN server compares it.
    public let credential: String

    public init(expiry: Int, credential: String) {
        self.expiry = expiry
        self.credential = credential
    }

    public var username: String { "\(expiry):\(Self.name)" }

    /// `<expiry>.<credential>` with the credential in base64url without padding (fragment-safe).
    public var fragmentValue: String {
        let urlSafe = credential.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }.filter { $0 != "=" }
        return "\(expiry)." + String(urlSafe)
    }

    public var description: String { "RoomTURN(\(expiry), …)" }
    public var debugDescription: String { description }
}
