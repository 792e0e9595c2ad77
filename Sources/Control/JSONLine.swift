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

    /// Nesting a control request may have; deeper lines are refused at once (a 500-deep line once held the
    /// loop for seconds).
    static let maxDepth = 16

    /// The value of one line, or nil when it is not JSON (or nested deeper than `maxDepth`).
    static func decode(_ line: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(line, maxDepth: maxDepth)
    }
}
