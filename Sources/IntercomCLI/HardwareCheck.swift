import Buttons
import DoorCore

/// The config checks only this machine can answer, made at start before anything runs: does the GPIO chip
/// exist, are the configured lines on it. A failure names the config key and line like any config error.
enum HardwareCheck {
    /// The buttons' GPIO set-up with the chip found, or nil when no button is configured.
    static func gpio(_ c: Configuration, deviceDirectory: String = "/dev") throws(ConfigurationError) -> GPIOButtons.Configuration? {
        guard !c.gpio.buttons.isEmpty else { return nil }
        let chip: GPIOChipInfo
        do {
            chip = try GPIOProbe.find(c.gpio.chip, in: deviceDirectory)
        } catch {
            throw c.error(.hardware, key: "gpio.chip", "\(error.message) (intercom probe gpio lists the chips)")
        }
        var lines: [Button: GPIOButtons.Line] = [:]
        for (button, line) in c.gpio.buttons.sorted(by: { $0.value.offset < $1.value.offset }) {
            guard line.offset < chip.lines.count else {
                throw c.error(.hardware, key: "gpio.buttons.\(button.rawValue)",
                              "\(chip.name) '\(chip.label)' has lines 0…\(chip.lines.count - 1), not \(line.offset)")
            }
            lines[button] = GPIOButtons.Line(offset: UInt32(line.offset), activeLow: line.activeLow, pullUp: line.pullUp)
        }
        return GPIOButtons.Configuration(chip: chip.path, lines: lines, debounceMillis: Int64(c.gpio.debounceMillis),
                                         longPressMillis: Int64(c.gpio.longPressMillis))
    }
}
