import DoorCore
@testable import Door
import Testing

/// `DeviceOptions` reads what the configuration says as it is from the configuration (one copy, so a test or
/// the command line that changes one sees it everywhere) and stores only what it resolves.
@Suite struct DeviceOptionsTests {
    @Test func valuesTheFileSetsAreReadFromTheConfiguration() {
        var c = Configuration()
        c.door.name = "Flat 3"
        c.door.roomLifetimeSeconds = 45
        c.signaling.key = "k3y"
        c.signaling.roomPrefix = "door-"
        c.signaling.allowedOrigins = ["https://door.example.org"]
        c.web.base = "https://door.example.org"
        c.signaling.server = "wss://peer.example.org/"
        c.signaling.path = "/myapp"
        let options = DeviceOptions(c)
        #expect(options.doorName == "Flat 3")
        #expect(options.roomLifetimeMillis == 45_000)
        #expect(options.key == "k3y")
        #expect(options.roomPrefix == "door-")
        #expect(options.allowedOrigins == ["https://door.example.org"])
        #expect(options.webBase == "https://door.example.org")
        #expect(options.signaling == "wss://peer.example.org/myapp")
    }

    @Test func settingAValueChangesTheConfigurationItCameFrom() {
        var options = DeviceOptions(Configuration())
        options.doorName = "Back door"
        options.key = "other"
        options.roomPrefix = "x-"
        options.webBase = "http://door.local:8080"
        options.allowedOrigins.append("https://elsewhere.example")
        options.configuration.door.roomLifetimeSeconds = 300
        #expect(options.configuration.door.name == "Back door")
        #expect(options.configuration.signaling.key == "other")
        #expect(options.configuration.signaling.roomPrefix == "x-")
        #expect(options.configuration.web.base == "http://door.local:8080")
        #expect(options.configuration.signaling.allowedOrigins == ["https://elsewhere.example"])
        #expect(options.roomLifetimeMillis == 300_000)
    }
}
