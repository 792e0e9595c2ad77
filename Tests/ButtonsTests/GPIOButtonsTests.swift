import Glibc
import DoorCore
import MainLoop
import Testing
import TestSupport
@testable import Buttons

@GLibActor
private func startError(_ configuration: GPIOButtons.Configuration) -> ButtonsError? {
    let buttons = GPIOButtons(configuration)
    do {
        try buttons.start { _ in }
        buttons.stop()
        return nil
    } catch let error as ButtonsError {
        return error
    } catch {
        Issue.record("GPIOButtons.start threw something other than ButtonsError: \(error)")
        return nil
    }
}

private let piLines: [Button: GPIOButtons.Line] = [
    .doorbell: .init(offset: 17), .answer: .init(offset: 27), .decline: .init(offset: 22), .mute: .init(offset: 23),
]

@Suite struct GPIOButtonsTests {
    init() { GLibLoop.shared.start() }

    @Test func startThrowsChipNotFoundWhenThisMachineHasNoGPIO() async throws {
        try #require(GPIOChip.chipPaths(in: "/dev").isEmpty, "this machine has GPIO chips; the other tests cover the logic")
        let error = await startError(GPIOButtons.Configuration(chip: "pinctrl-bcm2711", lines: piLines))
        #expect(error?.code == .chipNotFound)
        #expect(error?.description == "GPIO chip 'pinctrl-bcm2711' not found (no /dev/gpiochip* devices)")
    }

    @Test func anEmptyDeviceDirectoryNamesTheChipAndTheDirectory() async throws {
        let directory = try makeScratchDirectory("buttons-test")
        defer { removeTree(directory) }
        let error = await startError(GPIOButtons.Configuration(chip: "pinctrl-rp1", lines: piLines, deviceDirectory: directory))
        #expect(error == ButtonsError(.chipNotFound, "GPIO chip 'pinctrl-rp1' not found (no \(directory)/gpiochip* devices)"))
    }

    @Test func chipsThatAreNotTheOneWantedAreListed() async throws {
        let directory = try makeScratchDirectory("buttons-test")
        defer { removeTree(directory) }
        // Not character devices, so gpiod_chip_open refuses them: the message says which and why.
        for name in ["gpiochip10", "gpiochip2", "other"] { close(open("\(directory)/\(name)", O_CREAT | O_WRONLY, 0o644)) }
        #expect(GPIOChip.chipPaths(in: directory) == ["\(directory)/gpiochip2", "\(directory)/gpiochip10"])
        let error = await startError(GPIOButtons.Configuration(chip: "pinctrl-bcm2711", lines: piLines, deviceDirectory: directory))
        #expect(error?.code == .chipNotFound)
        #expect(error?.message.hasPrefix("GPIO chip 'pinctrl-bcm2711' not found (have: \(directory)/gpiochip2 (") == true)
        #expect(error?.message.contains("\(directory)/gpiochip10 (") == true)
    }

    @Test func oneLineForTwoButtonsIsRefusedBeforeLookingForTheChip() async {
        var lines = piLines
        lines[.mute] = .init(offset: 17)
        let error = await startError(GPIOButtons.Configuration(chip: "pinctrl-bcm2711", lines: lines))
        #expect(error == ButtonsError(.lineUnavailable, "GPIO line 17 is configured for both doorbell and mute"))
    }

    @Test func noConfiguredLinesStartsNothing() async {
        let error = await startError(GPIOButtons.Configuration(chip: "pinctrl-bcm2711", lines: [:]))
        #expect(error == nil)
    }
}
