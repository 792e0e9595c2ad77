import CGpiod
import Glibc

/// Owns one open GPIO chip (`gpiod_chip_open`), closed with `gpiod_chip_close` when released. The same type
/// on both libgpiod APIs (`GPIOLibrary.api`): v1 reads the chip's name and label off the chip, v2 off a
/// `gpiod_chip_info` that lives only while they are copied.
final class GPIOChip {
    let pointer: OpaquePointer
    let path: String
    /// The kernel name, `gpiochip0`.
    let name: String
    /// The driver's label, `pinctrl-bcm2711` (Pi 4) or `pinctrl-rp1` (Pi 5).
    let label: String
    let lineCount: UInt32

    /// Opens the chip at `path`; nil with `errno` set when it cannot.
    init?(path: String) {
        guard let pointer = gpiod_chip_open(path) else { return nil }
        #if LIBGPIOD_V2
        guard let info = gpiod_chip_get_info(pointer) else {
            let code = errno
            gpiod_chip_close(pointer)
            errno = code
            return nil
        }
        defer { gpiod_chip_info_free(info) }
        name = String(cString: gpiod_chip_info_get_name(info))
        label = String(cString: gpiod_chip_info_get_label(info))
        lineCount = UInt32(clamping: gpiod_chip_info_get_num_lines(info))
        #else
        name = String(cString: gpiod_chip_name(pointer))
        label = String(cString: gpiod_chip_label(pointer))
        lineCount = gpiod_chip_num_lines(pointer)
        #endif
        self.pointer = pointer
        self.path = path
    }

    deinit { gpiod_chip_close(pointer) }

    /// The line's name and who holds it, without requesting it (v1: `gpiod_chip_get_line`, `gpiod_line_name`,
    /// `gpiod_line_consumer`; v2: a `gpiod_line_info` from `gpiod_chip_get_line_info`, freed at once).
    func lineInfo(_ offset: UInt32) -> GPIOLineInfo {
        #if LIBGPIOD_V2
        guard let info = gpiod_chip_get_line_info(pointer, offset) else {
            return GPIOLineInfo(offset: Int(offset), name: "", consumer: nil)
        }
        defer { gpiod_line_info_free(info) }
        let consumer = gpiod_line_info_is_used(info)
            ? gpiod_line_info_get_consumer(info).map { String(cString: $0) } ?? "" : nil
        return GPIOLineInfo(offset: Int(offset), name: gpiod_line_info_get_name(info).map { String(cString: $0) } ?? "",
                            consumer: consumer.flatMap { $0.isEmpty ? nil : $0 })
        #else
        guard let line = gpiod_chip_get_line(pointer, offset) else {
            return GPIOLineInfo(offset: Int(offset), name: "", consumer: nil)
        }
        return GPIOLineInfo(offset: Int(offset), name: gpiod_line_name(line).map { String(cString: $0) } ?? "",
                            consumer: gpiod_line_consumer(line).map { String(cString: $0) })
        #endif
    }

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
                seen.append("\(path) (\(openFailure(errno)))")
                continue
            }
            if chip.label == wanted || chip.name == wanted || chip.path == wanted { return chip }
            seen.append("\(chip.name) '\(chip.label)'")
        }
        throw ButtonsError(.chipNotFound, "GPIO chip '\(wanted)' not found (have: \(seen.joined(separator: ", ")))")
    }

    /// Why `gpiod_chip_open` failed, in words, with what to do when it is a permission problem.
    static func openFailure(_ code: Int32) -> String {
        code == EACCES ? "permission denied: add the user to the gpio group" : String(cString: strerror(code))
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
