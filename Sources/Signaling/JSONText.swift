import FoundationEssentials
import DoorCore

/// JSON text from the network, parsed with bounds: size and nesting are checked by a cheap scan before the
/// recursive decoder runs, so a hostile `[[[[…` cannot exhaust the stack of the GLib thread.
enum JSONText {
    static let maxDepth = 32

    static func parse(_ bytes: some Collection<UInt8>, maxBytes: Int) throws(SignalingError) -> JSONValue {
        guard bytes.count <= maxBytes else { throw SignalingError(.tooLarge, "JSON text over \(maxBytes) bytes") }
        guard nestingDepth(bytes) <= maxDepth else {
            throw SignalingError(.tooLarge, "JSON nested deeper than \(maxDepth)")
        }
        do { return try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) } catch {
            throw SignalingError(.malformedMessage, "not JSON (\(bytes.count) bytes)")
        }
    }

    /// The deepest `[`/`{` nesting outside strings.
    static func nestingDepth(_ bytes: some Collection<UInt8>) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}
