/// What the web page and the door say to each other over a chat data connection: maps with a `t` field,
/// `{t: "chat", text}` both ways and `{t: "status", …}` from the door (the page shows it as a status line).
public enum ChatMessage: Sendable, Equatable {
    case chat(String)
    case status(muted: Bool)
    /// A status line in words (`{t: "status", text}`), e.g. why a message was not delivered.
    case notice(String)

    /// The longest chat text taken or sent, in characters; longer texts are refused, not cut.
    public static let maxTextCharacters = 1000

    public enum Refusal: Error, Sendable, Equatable {
        /// Not a chat message at all (another `t`, not a map, an empty text).
        case notChat
        /// A chat text over `maxTextCharacters`.
        case tooLong(characters: Int)
    }

    /// A received value as a chat message, or why it is not taken.
    public static func parse(_ value: DataValue) -> Result<ChatMessage, Refusal> {
        guard case .map = value, value["t"]?.stringValue == "chat", let text = value["text"]?.stringValue,
              !text.allSatisfy(\.isWhitespace) else { return .failure(.notChat) }
        guard text.count <= maxTextCharacters else { return .failure(.tooLong(characters: text.count)) }
        return .success(.chat(text))
    }

    /// A received value on a connection of `serialization`. `raw` carries only strings and bytes, so there a
    /// message is the JSON text of its map, in a string (what `value(for: .raw)` sends).
    public static func parse(_ value: DataValue, on serialization: DataSerialization) -> Result<ChatMessage, Refusal> {
        guard serialization == .raw else { return parse(value) }
        guard case .string(let text) = value,
              let json = try? JSONText.parse(text.utf8, maxBytes: text.utf8.count) else { return .failure(.notChat) }
        return parse(DataValue(json))
    }

    /// The value to send on a connection of `serialization`: the map, or on `raw` its JSON text.
    public func value(for serialization: DataSerialization) -> DataValue {
        guard serialization == .raw, let json = value.json else { return value }
        return .string(json.jsonText())
    }

    /// The value to send, in the page's key order (`t` first).
    public var value: DataValue {
        switch self {
        case .chat(let text): .object([("t", .string("chat")), ("text", .string(text))])
        case .status(let muted): .object([("t", .string("status")), ("muted", .bool(muted))])
        case .notice(let text): .object([("t", .string("status")), ("text", .string(text))])
        }
    }
}
