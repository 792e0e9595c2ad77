import Crypto
import DoorCore

/// The door's permanent PeerJS ID, its **home ID** (docs/pairing.md): outgoing calls and data
/// connections go out through it and paired browsers reach the door at it, whether a room is open or not.
/// `<room prefix>home-<32 hex>`, the hex being the first 16 bytes of SHA-256("intercom-home:" + device ID), so
/// it survives restarts without revealing the device ID.
public enum HomePeerID {
    public static func make(prefix: String, deviceID: String) -> String {
        let digest = SHA256.hash(data: Array(("intercom-home:" + deviceID).utf8))
        let hex = digest.prefix(16).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return prefix + "home-" + hex
    }

    /// For a run with no state directory: a random per-process device ID stands in.
    public static func random(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let stand = (0..<16).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16) }.joined()
        return make(prefix: prefix, deviceID: stand)
    }
}
