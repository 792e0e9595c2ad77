import FoundationEssentials
import DoorCore

/// One JSON value per line: the framing of the control socket.
enum JSONLine {
    /// Compact JSON with sorted keys and a trailing newline.
    static func encode(_ value: JSONValue) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Only NaN or infinity fail to encode; answer with an error rather than nothing.
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":"value is not representable as JSON","ok":false}"#.utf8)
        return Array(data) + [UInt8(ascii: "\n")]
    }

    /// The value of one line, or nil when it is not JSON.
    static func decode(_ line: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(line))
    }
}
