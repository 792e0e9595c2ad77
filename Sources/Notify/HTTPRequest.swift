import FoundationEssentials
import DoorCore

/// One POST (or PUT) to a target: where, which headers, which body. Built from a ring and a configured target,
/// with no I/O, so what each kind of target receives is tested without a network.
public struct HTTPRequest: Sendable, Equatable {
    /// `POST`, or `PUT` for an ntfy attachment.
    public var method = "POST"
    public var url: String
    public var contentType: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(url: String, contentType: String, headers: [(name: String, value: String)] = [], body: [UInt8]) {
        self.url = url
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    public static func == (a: HTTPRequest, b: HTTPRequest) -> Bool {
        a.method == b.method && a.url == b.url && a.contentType == b.contentType && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    /// The request that tells `target` about `ring`, with the ring's still (`picture`, JPEG) when there is one:
    /// inline as base64 for a webhook or Home Assistant, as the attachment itself for ntfy.
    public init(ring: RingNotice, target: Configuration.NotifyTarget, picture: [UInt8]? = nil) {
        var headers: [(name: String, value: String)] = []
        if let token = target.token { headers.append(("Authorization", "Bearer \(token)")) }
        var event: JSONValue = ["event": "ring", "door": .string(ring.doorName), "code": .string(ring.code),
                                "link": .string(ring.link), "time": .string(ring.timeText),
                                "timestamp": .number(Double(ring.timeMillis))]
        if let picture, case .object(var fields) = event {
            fields["picture"] = ["type": "image/jpeg", "base64": .string(Data(picture).base64EncodedString())]
            event = .object(fields)
        }
        if let picture, target.kind == .ntfy {
            self.init(ntfyAttachment: picture, ring: ring, target: target, headers: headers)
            return
        }
        switch target.kind {
        case .webhook:
            self.init(url: target.url, contentType: "application/json", headers: headers, body: Self.encode(event))
        case .homeassistant:
            self.init(url: target.url + "/api/webhook/" + (target.webhookID ?? ""), contentType: "application/json",
                      headers: headers, body: Self.encode(event))
        case .ntfy:
            // ntfy's JSON publishing (POST to the server's root with the topic in the body): UTF-8 door names
            // survive, which the header form (Title:, Click:) would need RFC 2047 for.
            let (server, topic) = Self.splitTopic(target.url)
            var message: [String: JSONValue] = [
                "topic": .string(topic),
                "title": .string("\(ring.doorName): someone is at the door"),
                "message": .string("Room \(ring.code). Tap to answer."),
                "click": .string(ring.link),
                "tags": ["bell"],
                "actions": [["action": "view", "label": "Answer", "url": .string(ring.link), "clear": true]],
            ]
            if let priority = target.priority { message["priority"] = .number(Double(priority)) }
            self.init(url: server, contentType: "application/json", headers: headers, body: Self.encode(.object(message)))
        }
    }

    /// ntfy's attachment publishing: the JPEG is the body of a PUT to the topic's URL, and the message travels in
    /// headers (`Title`, `Message`, `Click`, `Actions`, `Filename`). Header values are ASCII: a door name that is
    /// not goes as an RFC 2047 encoded word, which ntfy decodes.
    init(ntfyAttachment picture: [UInt8], ring: RingNotice, target: Configuration.NotifyTarget,
         headers: [(name: String, value: String)]) {
        var headers = headers
        headers.append(("Title", Self.headerText("\(ring.doorName): someone is at the door")))
        headers.append(("Message", "Room \(ring.code). Tap to answer."))
        headers.append(("Click", ring.link))
        headers.append(("Tags", "bell"))
        headers.append(("Actions", "view, Answer, \(ring.link), clear=true"))
        headers.append(("Filename", "ring-\(ring.code).jpg"))
        if let priority = target.priority { headers.append(("Priority", String(priority))) }
        self.init(url: target.url, contentType: "image/jpeg", headers: headers, body: picture)
        method = "PUT"
    }

    /// `text` as is when it is printable ASCII, else as one RFC 2047 encoded word (`=?UTF-8?B?…?=`).
    static func headerText(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value != 0x7f }) { return text }
        return "=?UTF-8?B?" + Data(text.utf8).base64EncodedString() + "?="
    }

    /// `https://ntfy.sh/door-7f3k` → (`https://ntfy.sh/`, `door-7f3k`).
    static func splitTopic(_ url: String) -> (server: String, topic: String) {
        guard let schemeEnd = url.firstRange(of: "://"),
              let slash = url[schemeEnd.upperBound...].firstIndex(of: "/") else { return (url + "/", "") }
        return (String(url[...slash]), String(url[url.index(after: slash)...]))
    }

    static func encode(_ value: JSONValue) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    /// What a log line may say about where a request went: the kind's scheme, host and port. Paths and
    /// queries are left out — an ntfy topic or a Home Assistant webhook ID is itself a password.
    public static func loggableOrigin(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return "(bad URL)" }
        let authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.split(separator: "@").last.map(String.init) ?? ""
        return url[..<schemeEnd.upperBound] + host
    }
}
