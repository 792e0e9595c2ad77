import CGpiod
import Glibc

/// Owns one open GPIO chip (`gpiod_chip_open`), closed with `gpiod_chip_close` when released.
final class GPIOChip {
    let pointer: OpaquePointer
    let path: String

    /// Opens the chip at `path`; nil with `errno` set when it cannot.
    init?(path: String) {
        guard let pointer = gpiod_chip_open(path) else { return nil }
        self.pointer = pointer
        self.path = path
    }

    deinit { gpiod_chip_close(pointer) }

    /// The kernel name, `gpiochip0`.
    var name: String { String(cString: gpiod_chip_name(pointer)) }
    /// The driver's label, `pinctrl-bcm2711` (Pi 4) or `pinctrl-rp1` (Pi 5).
    var label: String { String(cString: gpiod_chip_label(pointer)) }
    var lineCount: UInt32 { gpiod_chip_num_lines(pointer) }

    /// Finds the chip whose label, name or path is `wanted` among `<deviceDirectory>/gpiochip*`: chip numbers
    /// move between kernels (the Pi 5 header went from gpiochip4 to gpiochip0), labels do not.
    static func find(_ wanted: String, deviceDirectory: String = "/dev") throws(ButtonsError) -> GPIOChip {
        let paths = chipPaths(in: deviceDirectory)
        guard !paths.isEmpty else {
            throw ButtonsError(.chipNotFound, "GPIO chip '\(wanted)' not found (no \(deviceDirectory)/gpiochip* devices)")
        }
        var seen: [String] = []
        for path in paths {
            guard let chip = GPIOChip(path: path) else {
                let reason = errno == EACCES ? "permission denied: add the user to the gpio group" : String(cString: strerror(errno))
                seen.append("\(path) (\(reason))")
                continue
            }
            if chip.label == wanted || chip.name == wanted || chip.path == wanted { return chip }
            seen.append("\(chip.name) '\(chip.label)'")
        }
        throw ButtonsError(.chipNotFound, "GPIO chip '\(wanted)' not found (have: \(seen.joined(separator: ", ")))")
    }

    /// `gpiochip*` entries of `directory`, in chip-number order.
    static func chipPaths(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("gpiochip") { names.append(name) }
        }
        func number(_ name: String) -> Int { Int(name.dropFirst("gpiochip".count)) ?? .max }
        return names.sorted { (number($0), $0) < (number($1), $1) }.map { "\(directory)/\($0)" }
    }
}
