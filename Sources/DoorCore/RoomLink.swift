/// The join link of one room: `<web base>/?room=<code>#k=<secret>`. The code is in the query (people read
/// it; the server may see it), the secret only in the fragment, which browsers keep to themselves.
///
/// The full link is a bearer capability: it goes to the QR code and to notification targets (`url`), and
/// nowhere else. Printing a `RoomLink` — string interpolation, a log line, the control socket's `state` —
/// gives the `redacted` form, `…/?room=12345#k=…`.
public struct RoomLink: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let code: String
    public let secret: RoomSecret
    /// `<web base>/?room=<code>`: what a person may type; it reaches the door only as a knock.
    public let withoutSecret: String

    public init(webBase: String, code: String, secret: RoomSecret) {
        self.code = code
        self.secret = secret
        withoutSecret = (webBase.hasSuffix("/") ? webBase : webBase + "/") + "?room=" + code
    }

    /// The whole link, secret included: for the QR code and the notification targets only.
    public var url: String { withoutSecret + "#k=" + secret.base64url }

    /// Safe to log: the secret replaced by `…`.
    public var redacted: String { withoutSecret + "#k=…" }

    public var description: String { redacted }
    public var debugDescription: String { "RoomLink(\(redacted))" }

    /// Any text with a `#k=` (room secret) or `#p=` (pairing token) fragment, the secret replaced by `…` (for
    /// text that may hold a link, e.g. a URL).
    public static func redact(_ text: String) -> String {
        let marks = ["#k=", "#p="].compactMap { text.firstRange(of: $0) }
        guard let range = marks.min(by: { $0.lowerBound < $1.lowerBound }) else { return text }
        let tail = text[range.upperBound...]
        let end = tail.firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) ?? tail.endIndex
        return String(text[..<range.upperBound]) + "…" + redact(String(tail[end...]))
    }
}
