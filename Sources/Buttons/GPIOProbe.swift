import CGpiod
import Glibc

/// A GPIO chip as `GPIOProbe` found it: what `intercom probe gpio` lists and what the start-up check compares
/// the config's line offsets with.
public struct GPIOChipInfo: Sendable, Equatable {
    public let path: String
    /// Kernel name, `gpiochip0`.
    public let name: String
    /// Driver label, `pinctrl-bcm2711`.
    public let label: String
    public let lines: [GPIOLineInfo]
}

/// One line of a chip (v1 `gpiod_line_name`/`gpiod_line_consumer`, v2 `gpiod_line_info_get_name`/`_get_consumer`).
public struct GPIOLineInfo: Sendable, Equatable {
    public let offset: Int
    /// The name the device tree gives it (`GPIO17`), empty when none.
    public let name: String
    /// Who holds the line now, nil when it is free.
    public let consumer: String?
}

/// Lists the GPIO chips with libgpiod (`gpiod_chip_open`, then each line's name and user through
/// `GPIOChip.lineInfo`, on either API) and finds the one a config names; no line is requested, so probing
/// disturbs nothing and prints the same on libgpiod 1.6 and 2.x.
public enum GPIOProbe {
    /// The Raspberry Pi header chips, newest first: Pi 5 (RP1), Pi 4, Pi 3 / Zero 2.
    public static let raspberryPiLabels = ["pinctrl-rp1", "pinctrl-bcm2712", "pinctrl-bcm2711", "pinctrl-bcm2835"]

    /// Every chip under `directory`, and one line per chip that could not be opened (with what to do).
    public static func chips(in directory: String = "/dev") -> (chips: [GPIOChipInfo], problems: [String]) {
        var chips: [GPIOChipInfo] = []
        var problems: [String] = []
        for path in GPIOChip.chipPaths(in: directory) {
            guard let chip = GPIOChip(path: path) else {
                problems.append(errno == EACCES ? "\(path): permission denied (add the user to the gpio group)"
                                                : "\(path): \(String(cString: strerror(errno)))")
                continue
            }
            let lines = (0..<chip.lineCount).map(chip.lineInfo)
            chips.append(GPIOChipInfo(path: path, name: chip.name, label: chip.label, lines: lines))
        }
        return (chips, problems)
    }

    /// The chip a config names by label, name or path; `auto` is the first Raspberry Pi header chip.
    public static func find(_ wanted: String, in directory: String = "/dev") throws(ButtonsError) -> GPIOChipInfo {
        let (chips, problems) = chips(in: directory)
        let found = wanted == "auto"
            ? raspberryPiLabels.lazy.compactMap { label in chips.first { $0.label == label } }.first
            : chips.first { $0.label == wanted || $0.name == wanted || $0.path == wanted }
        if let found { return found }
        let have = chips.map { "\($0.name) '\($0.label)'" } + problems
        let what = wanted == "auto" ? "no Raspberry Pi GPIO chip (\(raspberryPiLabels.joined(separator: ", ")))"
                                    : "GPIO chip '\(wanted)' not found"
        throw ButtonsError(.chipNotFound, have.isEmpty ? "\(what): no \(directory)/gpiochip* devices"
                                                       : "\(what); found: \(have.joined(separator: ", "))")
    }
}
