import CGStreamer
import Glibc
import Testing
@testable import Media

/// `VERSION_ID` of /etc/os-release: "12" on bookworm, "13" on trixie.
private func debianVersion() -> String? {
    guard let file = fopen("/etc/os-release", "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1024)
    while case let count = fread(&chunk, 1, chunk.count, file), count > 0 { bytes += chunk[..<count] }
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VERSION_ID=") {
        return line.dropFirst("VERSION_ID=".count).filter { $0 != "\"" }
    }
    return nil
}

@Suite struct EchoCancellerTests {
    init() { gst_init(nil, nil) }

    /// Debian 12's gstreamer1.0-plugins-bad is built on webrtc-audio-processing 0.3, Debian 13's on 1.x (AEC3):
    /// the registry lookup must say which, since `intercom probe media` warns about AEC3's limits from it.
    @Test func tellsTheLegacyCancellerFromAEC3() throws {
        try #require(elementExists("webrtcdsp"), "webrtcdsp is not installed: apt install gstreamer1.0-plugins-bad")
        let version = try #require(debianVersion(), "no VERSION_ID in /etc/os-release")
        switch version {
        case "12": #expect(EchoCanceller.installed() == .legacy)
        case "13": #expect(EchoCanceller.installed() == .aec3)
        default: Issue.record("not Debian 12 or 13 (VERSION_ID \(version)): which canceller to expect is unknown")
        }
    }
}
