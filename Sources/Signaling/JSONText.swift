import FoundationEssentials
import DoorCore

/// JSON text from the network, parsed with bounds: size first, then one linear pass (`JSONParser`) that stops
/// at `maxDepth`, so a hostile `[[[[…` cannot exhaust the stack of the GLib thread.
enum JSONText {
    static let maxDepth = 32

    static func parse(_ bytes: some Collection<UInt8>, maxBytes: Int) throws(SignalingError) -> JSONValue {
        guard bytes.count <= maxBytes else { throw SignalingError(.tooLarge, "JSON text over \(maxBytes) bytes") }
        do { return try JSONParser.parse(bytes, maxDepth: maxDepth) } catch {
            throw SignalingError(error.reason.hasPrefix("nested") ? .tooLarge : .malformedMessage,
                                 "not JSON (\(bytes.count) bytes): \(error.reason) at \(error.offset)")
        }
    }
}
