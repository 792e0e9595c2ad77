import Glibc
import DoorCore
import Testing
import TestSupport
@testable import Buttons

/// What the installed libgpiod says about itself, read the way a person would: the header and pkg-config.
private func readAll(_ file: UnsafeMutablePointer<FILE>) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count == 0 { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func installedHeader() -> String? {
    guard let file = fopen("/usr/include/gpiod.h", "r") else { return nil }
    defer { fclose(file) }
    return readAll(file)
}

private func pkgConfigVersion() -> String? {
    guard let pipe = popen("pkg-config --modversion libgpiod 2>/dev/null", "r") else { return nil }
    defer { pclose(pipe) }
    let version = readAll(pipe).filter { !$0.isWhitespace }
    return version.isEmpty ? nil : version
}

/// Runs on whichever libgpiod this machine has (1.6 on Debian 12, 2.x on Debian 13; `make test-trixie` runs
/// the second): the calls below reach the library without a GPIO chip, and every message must read the same
/// on both APIs.
@Suite struct GPIOLibraryTests {
    @Test func theBuildUsesTheAPIOfTheInstalledLibrary() throws {
        let header = try #require(installedHeader(), "/usr/include/gpiod.h is missing: apt install libgpiod-dev")
        #expect(GPIOLibrary.api == (header.contains("gpiod_chip_request_lines") ? 2 : 1))
        let version = try #require(pkgConfigVersion(), "pkg-config does not know libgpiod")
        #expect(version.split(separator: ".").first.map(String.init) == String(GPIOLibrary.api),
                "libgpiod \(version) with the v\(GPIOLibrary.api) adapter")
    }

    @Test func openingWhatIsNotAChipFailsWithTheReasonFromTheLibrary() throws {
        let directory = try makeScratchDirectory("buttons-test")
        defer { removeTree(directory) }
        close(open("\(directory)/gpiochip1", O_CREAT | O_WRONLY, 0o644))
        #expect(symlink("/dev/null", "\(directory)/gpiochip0") == 0)
        #expect(symlink("\(directory)/gone", "\(directory)/gpiochip2") == 0)

        errno = 0
        #expect(GPIOChip(path: "\(directory)/gpiochip1") == nil)
        #expect(errno == ENOTTY, "a regular file: errno \(errno)")
        // A character device that is not a GPIO chip: v1 refuses it with ENOTTY, v2 with ENODEV.
        errno = 0
        #expect(GPIOChip(path: "\(directory)/gpiochip0") == nil)
        #expect(errno == (GPIOLibrary.api == 2 ? ENODEV : ENOTTY), "/dev/null: errno \(errno)")
        errno = 0
        #expect(GPIOChip(path: "\(directory)/gpiochip2") == nil)
        #expect(errno == ENOENT, "nothing there: errno \(errno)")
    }

    @Test func theProbeListsEveryChipItCannotOpenWithTheSameWordsOnBothAPIs() throws {
        let directory = try makeScratchDirectory("buttons-test")
        defer { removeTree(directory) }
        close(open("\(directory)/gpiochip1", O_CREAT | O_WRONLY, 0o644))
        _ = symlink("/dev/null", "\(directory)/gpiochip0")
        _ = symlink("\(directory)/gone", "\(directory)/gpiochip2")

        let (chips, problems) = GPIOProbe.chips(in: directory)
        let notAChip = GPIOLibrary.api == 2 ? "No such device" : "Inappropriate ioctl for device"
        #expect(chips.isEmpty)
        #expect(problems == [
            "\(directory)/gpiochip0: \(notAChip)",
            "\(directory)/gpiochip1: Inappropriate ioctl for device",
            "\(directory)/gpiochip2: No such file or directory",
        ])
        #expect(throws: ButtonsError(.chipNotFound, "GPIO chip 'pinctrl-rp1' not found; found: "
                                     + problems.joined(separator: ", "))) {
            try GPIOProbe.find("pinctrl-rp1", in: directory)
        }
        #expect(throws: ButtonsError(.chipNotFound, "GPIO chip 'pinctrl-rp1' not found (have: "
                                     + "\(directory)/gpiochip0 (\(notAChip)), "
                                     + "\(directory)/gpiochip1 (Inappropriate ioctl for device), "
                                     + "\(directory)/gpiochip2 (No such file or directory))")) {
            try GPIOChip.find("pinctrl-rp1", deviceDirectory: directory)
        }
    }

    @Test func edgesDecodeTheSameFromBothAPIsIntoTheOneDebouncer() {
        // v1 hands a timespec, v2 nanoseconds; both arrive here as nanoseconds on the kernel's clock.
        #expect(GPIOEdge(rising: true, nanoseconds: 12_345_999_999) == GPIOEdge(rising: true, nanoseconds: 12_345_000_000))
        #expect(GPIOEdge(rising: true, nanoseconds: 1_500_000).level == .pressed)
        #expect(GPIOEdge(rising: false, nanoseconds: 1_500_000).level == .released)
        #expect(GPIOEdge(rising: false, nanoseconds: 1_500_000).millis == 1)

        // A bouncy press held 2 s, then a short one: the same presses whichever API produced the edges.
        let base: Int64 = 9_000_000_000_000
        let edges: [(Bool, Int64)] = [(true, 0), (false, 2_000_000), (true, 3_000_000), (false, 2_003_000_000),
                                      (true, 3_000_000_000), (false, 3_200_000_000)]
        var debouncer = Debouncer(button: .doorbell, debounceMillis: 30, longPressMillis: 1500)
        var presses: [ButtonPress] = []
        for (rising, offset) in edges {
            let edge = GPIOEdge(rising: rising, nanoseconds: base + offset)
            presses += debouncer.feed(edge.level, atMillis: edge.millis)
        }
        presses += debouncer.advance(toMillis: (base + 4_000_000_000) / 1_000_000)
        #expect(presses == [ButtonPress(.doorbell, long: true), ButtonPress(.doorbell)])
    }
}
