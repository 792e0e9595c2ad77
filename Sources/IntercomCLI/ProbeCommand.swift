import ArgumentParser
import Buttons
import CGStreamer
import ConfigFile
import Display
import Glibc
import Door
import DoorCore
import Media

/// `intercom probe [gpio|display|media|signaling|state]`: what this machine has for the door, one line per
/// finding, each OK or what is missing and how to fix it. Exit 1 when something is missing.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Check the hardware and software the door needs: GPIO, display, camera, audio, encoders, signaling.")

    enum Part: String, ExpressibleByArgument, CaseIterable {
        case all, gpio, display, media, signaling, state
    }

    @Argument(help: "What to check: all, gpio, display, media, signaling or state.")
    var part: Part = .all

    @Option(help: "Config file to check against. (default: /etc/intercom/intercom.yaml when it exists)")
    var config: String?

    func run() throws {
        var report = ProbeReport()
        var configuration = Configuration()
        let path = config ?? (access("/etc/intercom/intercom.yaml", R_OK) == 0 ? "/etc/intercom/intercom.yaml" : nil)
        if let path {
            do {
                configuration = try ConfigFile.load(path: path)
                report.ok("config", "\(path)")
            } catch {
                report.missing("config", "\(error)", fix: "fix the file; intercom check-config \(path)")
            }
        } else {
            report.ok("config", "no config file; the built-in defaults")
        }
        if part == .all || part == .gpio { probeGPIO(configuration, &report) }
        if part == .all || part == .display { probeDisplay(configuration, &report) }
        if part == .all || part == .media { probeMedia(configuration, &report) }
        if part == .all || part == .signaling { probeSignaling(configuration, &report) }
        if part == .all || part == .state { probeState(configuration, &report) }
        if report.missingCount > 0 { throw ExitCode(1) }
    }

    // MARK: - GPIO

    private func probeGPIO(_ c: Configuration, _ report: inout ProbeReport) {
        report.note("gpio", "libgpiod \(GPIOLibrary.version) (API \(GPIOLibrary.api))")
        let (chips, problems) = GPIOProbe.chips()
        for problem in problems { report.missing("gpio", problem, fix: "run as root or add the user to the gpio group") }
        if chips.isEmpty, problems.isEmpty {
            if c.gpio.buttons.isEmpty {
                report.note("gpio", "no /dev/gpiochip* devices; none needed: no buttons are configured")
            } else {
                report.missing("gpio", "no /dev/gpiochip* devices", fix: "this is not a Raspberry Pi, or its GPIO driver is not loaded")
            }
        }
        for chip in chips {
            let held = chip.lines.filter { $0.consumer != nil }.map { "\($0.offset)(\($0.consumer ?? ""))" }
            report.ok("gpio", "\(chip.name) '\(chip.label)': \(chip.lines.count) lines"
                      + (held.isEmpty ? "" : ", in use: \(held.joined(separator: " "))"))
        }
        guard !c.gpio.buttons.isEmpty else { return }
        guard let chip = try? GPIOProbe.find(c.gpio.chip) else {
            if !chips.isEmpty {
                report.missing("gpio", "gpio.chip '\(c.gpio.chip)' matches no chip", fix: "set gpio.chip to one of the labels above")
            }
            return
        }
        for (button, line) in c.gpio.buttons.sorted(by: { $0.value.offset < $1.value.offset }) {
            guard line.offset < chip.lines.count else {
                report.missing("gpio", "\(button.rawValue): line \(line.offset) is not on \(chip.name)",
                               fix: "gpio.buttons.\(button.rawValue) must be 0…\(chip.lines.count - 1)")
                continue
            }
            let info = chip.lines[line.offset]
            let name = info.name.isEmpty ? "" : " (\(info.name))"
            if let consumer = info.consumer, consumer != "intercom" {
                report.missing("gpio", "\(button.rawValue): line \(line.offset)\(name) is held by '\(consumer)'",
                               fix: "free it (a dtoverlay or another program uses it) or move the button")
            } else {
                report.ok("gpio", "\(button.rawValue): line \(line.offset)\(name) on \(chip.name)"
                          + (info.consumer == "intercom" ? ", held by the running intercom" : ", free"))
            }
        }
    }

    // MARK: - Display

    private func probeDisplay(_ c: Configuration, _ report: inout ProbeReport) {
        if c.display.output == .snapshot {
            report.ok("display", "display.output is snapshot: PNG files in \(c.paths.snapshots), no screen")
            return
        }
        let cards: [DRMCard]
        do { cards = try DRMProbe.cards() } catch {
            report.missing("display", "\(error)", fix: c.display.output == .drm
                ? "add dtoverlay=vc4-kms-v3d to /boot/firmware/config.txt and reboot (or set display.output: snapshot)"
                : "no screen: snapshots are written instead; for a screen add dtoverlay=vc4-kms-v3d to /boot/firmware/config.txt")
            return
        }
        for card in cards {
            for connector in card.connectors {
                let mode = connector.preferredMode.map { " \($0.width)x\($0.height)@\($0.refreshHz)" } ?? ""
                report.ok("display", "\(card.path) (\(card.driver)) \(connector.name): "
                          + (connector.connected ? "connected\(mode)" : "nothing connected"))
            }
        }
        if let wanted = c.display.connector {
            let match = cards.flatMap(\.connectors).first { $0.name == wanted }
            if match?.connected != true {
                report.missing("display", "display.connector \(wanted) is " + (match == nil ? "not on any card" : "not connected"),
                               fix: "plug the screen in, or set display.connector to a connected one above")
            }
        } else if !cards.contains(where: { $0.firstConnected != nil }) {
            report.missing("display", "no connector has a screen", fix: "plug in the screen (HDMI or DSI) and check its cable")
        }
    }

    // MARK: - Media: cameras, audio, encoders

    private func probeMedia(_ c: Configuration, _ report: inout ProbeReport) {
        probeCameras(c, &report)
        probeAudio(c, &report)
        gst_init(nil, nil)
        report.ok("media", "GStreamer \(MediaEngine.version())")
        for (element, package) in MediaEngine.requiredElements where !elementExists(element) {
            report.missing("media", "GStreamer element \(element)", fix: "apt install \(package)")
        }
        let encoders: [(String, String)] = [("v4l2h264enc", "the Pi's hardware encoder (Pi 3, 4, Zero 2; needs the kernel's bcm2835-codec)"),
                                            ("x264enc", "gstreamer1.0-plugins-ugly"), ("openh264enc", "gstreamer1.0-plugins-bad")]
        for (element, source) in encoders {
            if elementExists(element) { report.ok("encoder", "\(element) present") }
            else { report.note("encoder", "\(element) absent (\(source))") }
        }
        if c.media.encoder != .auto, !elementExists(c.media.encoder.rawValue) {
            report.missing("encoder", "media.encoder \(c.media.encoder.rawValue) is forced but absent",
                           fix: "set media.encoder: auto or install it")
        } else if EncoderChoice.detect() == nil {
            report.missing("encoder", "no H.264 encoder", fix: "apt install gstreamer1.0-plugins-ugly")
        }
        for (element, what) in [("vp8enc", "VP8 for peers without H.264"), ("libcamerasrc", "Pi cameras"),
                                ("v4l2src", "USB cameras"), ("alsasrc", "ALSA microphone"), ("alsasink", "ALSA speaker"),
                                ("pulsesrc", "PulseAudio microphone"), ("pulsesink", "PulseAudio speaker"),
                                ("webrtcdsp", "echo cancellation")] {
            if elementExists(element) { report.ok("media", "\(element) present (\(what))") }
            else { report.note("media", "\(element) absent (\(what))") }
        }
        if EchoCanceller.installed() == .aec3 {
            report.note("media", "webrtcdsp cancels echo with AEC3 (webrtc-audio-processing 1.x): voices are cancelled, "
                        + "a steady sound from the speaker (a hum, a tone) is not; see docs/trixie.md")
        }
        // What `intercom run` would do with this config on this machine: the same plan it logs at start.
        let plan = MediaPlan.resolve(DeviceOptions.mediaSettings(c), MediaInventory.scan())
        for note in plan.notes where note.level != .info {
            if note.level == .error { report.missing("media", note.text, fix: "fix media.* in the config or connect the device") }
            else { report.note("media", note.text) }
        }
        report.ok("media", "would use: \(plan.encoder?.rawValue ?? "no H.264 encoder"); \(plan.summary)")
        if !elementExists("avdec_h264"), !elementExists("openh264dec") {
            report.missing("media", "no H.264 decoder: the caller's video will not show", fix: "apt install gstreamer1.0-libav")
        }
    }

    private func probeCameras(_ c: Configuration, _ report: inout ProbeReport) {
        // Codec and ISP nodes are video devices too; the sysfs name tells them from cameras.
        let notCameras = ["codec", "isp", "rpivid", "pispbe", "hevc", "bcm2835-jpeg"]
        var cameras = 0
        for name in directoryEntries("/sys/class/video4linux").filter({ $0.hasPrefix("video") }).sorted() {
            let label = readText("/sys/class/video4linux/\(name)/name") ?? "?"
            if notCameras.contains(where: { label.lowercased().contains($0) }) {
                report.note("camera", "/dev/\(name): \(label) (a codec/ISP node, not a camera)")
            } else {
                cameras += 1
                report.ok("camera", "/dev/\(name): \(label)")
            }
        }
        for tool in ["rpicam-hello", "libcamera-hello"] where commandExists(tool) {
            let output = runCommand("\(tool) --list-cameras 2>&1")
            let found = output.split(separator: "\n").filter { $0.contains(" : ") }
            if found.isEmpty { report.note("camera", "libcamera (\(tool)): no camera module found") }
            for line in found { report.ok("camera", "libcamera: \(line.trimmingSpaces)") }
            cameras += found.count
            break
        }
        if cameras == 0 {
            report.missing("camera", "no camera", fix: c.media.camera == .test || c.media.camera == .auto
                ? "the test picture is sent; connect a Pi camera (camera_auto_detect=1) or a USB camera"
                : "connect the camera; for a Pi camera check camera_auto_detect=1 in /boot/firmware/config.txt")
        }
        if let device = c.media.cameraDevice, access(device, F_OK) != 0 {
            report.missing("camera", "media.camera_device \(device) does not exist", fix: "set it to one of the /dev/video* above")
        }
        if c.media.camera == .libcamera || c.media.camera == .auto {
            gst_init(nil, nil)
            if !elementExists("libcamerasrc") {
                report.note("camera", "GStreamer libcamerasrc absent: Pi cameras need apt install gstreamer1.0-libcamera")
            }
        }
    }

    private func probeAudio(_ c: Configuration, _ report: inout ProbeReport) {
        guard let cards = readText("/proc/asound/cards") else {
            report.missing("audio", "no /proc/asound/cards: no sound driver", fix: "dtparam=audio=on in /boot/firmware/config.txt, or a USB/I2S sound card")
            return
        }
        for line in cards.split(separator: "\n") where line.first == " " && line.contains("]:") {
            report.ok("audio", "card \(line.trimmingSpaces)")
        }
        let pcms = readText("/proc/asound/pcm") ?? ""
        let capture = pcms.contains("capture"), playback = pcms.contains("playback")
        if !capture, c.media.microphone != "off", c.media.microphone != "test" {
            report.missing("audio", "no capture device (microphone)", fix: "connect a USB microphone or an I2S HAT, or set media.microphone: test")
        }
        if !playback, c.media.speaker != "off" {
            report.missing("audio", "no playback device (speaker)", fix: "connect a speaker (HDMI, USB, I2S), or set media.speaker: off")
        }
    }

    // MARK: - Signaling, state

    private func probeSignaling(_ c: Configuration, _ report: inout ProbeReport) {
        if let listen = c.signaling.listen {
            let answering = TCPProbe.connects(host: listen.host == "0.0.0.0" ? "127.0.0.1" : listen.host, port: listen.port)
            report.ok("signaling", "built-in server on \(listen.host):\(listen.port): "
                      + (answering ? "answering (the intercom is running)" : "not running now; it starts with the service"))
        }
        if let server = c.signaling.server {
            let rest = server.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
            let secure = server.hasPrefix("wss://") || server.hasPrefix("https://")
            var host = rest, port = secure ? 443 : 80
            if let colon = rest.lastIndex(of: ":"), let p = Int(rest[rest.index(after: colon)...]) {
                host = String(rest[..<colon]); port = p
            }
            if TCPProbe.connects(host: host, port: port) {
                report.ok("signaling", "\(host):\(port) reachable")
            } else {
                report.missing("signaling", "\(host):\(port) not reachable", fix: "check the network, DNS and signaling.server")
            }
        }
        if c.web.base.contains("localhost") || c.web.base.contains("127.0.0.1") {
            report.missing("signaling", "web.base \(c.web.base) only works on this machine",
                           fix: "set web.base to an address phones can reach, e.g. http://intercom.local:8080")
        }
    }

    private func probeState(_ c: Configuration, _ report: inout ProbeReport) {
        let directory = getenv("STATE_DIRECTORY").map { String(cString: $0) } ?? c.paths.state
        if access(directory, W_OK) == 0 {
            let id = readText(directory + "/" + DeviceID.fileName).map { "device \($0)" } ?? "no device ID yet"
            report.ok("state", "\(directory) writable; \(id)")
        } else if access(directory, F_OK) == 0 {
            report.ok("state", "\(directory) exists (not writable by this user; the service's own)")
        } else {
            report.missing("state", "\(directory) does not exist", fix: "the service creates it (StateDirectory=intercom); install the package")
        }
    }
}

/// The lines `intercom probe` prints, and how many say something is missing.
struct ProbeReport {
    private(set) var missingCount = 0

    mutating func ok(_ part: String, _ text: String) { emit("OK", part, text) }
    mutating func note(_ part: String, _ text: String) { emit("--", part, text) }
    mutating func missing(_ part: String, _ text: String, fix: String) {
        missingCount += 1
        emit("MISSING", part, "\(text) → \(fix)")
    }

    private func emit(_ status: String, _ part: String, _ text: String) {
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        print("\(pad(status, 8)) \(pad(part, 10)) \(text)")
    }
}

private func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if !name.hasPrefix(".") { names.append(name) }
    }
    return names
}

private func readText(_ path: String) -> String? {
    AtomicFile.read(path, limit: 64 * 1024).map { String(decoding: $0, as: UTF8.self).trimmingNewline }
}

private func commandExists(_ name: String) -> Bool {
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
    return path.split(separator: ":").contains { access("\($0)/\(name)", X_OK) == 0 }
}

/// Runs a fixed command line (no user input in it) and returns its standard output.
private func runCommand(_ command: String) -> String {
    guard let pipe = popen(command, "r") else { return "" }
    defer { pclose(pipe) }
    var output = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), pipe) != nil {
        output += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return output
}

extension String {
    var trimmingSpaces: String {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
        return String(self[start..<max(start, end)])
    }
}

extension Substring {
    var trimmingSpaces: String { String(self).trimmingSpaces }
}
