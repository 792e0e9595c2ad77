import Glibc
import DoorCore

/// The device's own identity: 128 random bits, hex, kept in `<state>/device-id` across reboots (written with
/// `AtomicFile`, so a power cut during the first boot cannot leave an empty ID). Pairing browsers to the door
/// will be keyed on it.
enum DeviceID {
    static let fileName = "device-id"

    /// The stored ID, or a new one stored now. Nil when there is no state directory (a development run with
    /// no `paths.state`; systemd's `StateDirectory=` creates it on a device) or it cannot be written.
    static func loadOrCreate(stateDirectory: String) -> String? {
        let path = stateDirectory + "/" + fileName
        if let bytes = AtomicFile.read(path, limit: 256) {
            let text = String(decoding: bytes, as: UTF8.self).trimmingNewline
            if isValid(text) { return text }
            Log.warning("intercom", "\(path) does not hold a device ID; making a new one")
        }
        var info = stat()
        guard stat(stateDirectory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            Log.debug("intercom", "no state directory \(stateDirectory): the device ID is not kept")
            return nil
        }
        // SystemRandomNumberGenerator is the kernel's getrandom(2): fit for identifiers others must not guess.
        var generator = SystemRandomNumberGenerator()
        let id = (0..<16).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
        do {
            try AtomicFile.write(Array((id + "\n").utf8), to: path, mode: 0o640)
        } catch {
            Log.warning("intercom", "cannot keep the device ID: \(error)")
            return nil
        }
        return id
    }

    static func isValid(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}

extension String {
    var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
