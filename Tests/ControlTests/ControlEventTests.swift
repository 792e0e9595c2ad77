import Control
import DoorCore
import Glibc
import Testing

/// The control events in the code and in docs/control-socket.md's events table are the same list, and each
/// event's line has the shape the table says.
@Suite struct ControlEventTests {
    /// The first column of every row of the "## Events" table: `| `name` | … |`.
    static func documentedEvents(in page: String) -> [String] {
        var inSection = false
        var names: [String] = []
        for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { inSection = line == "## Events" }
            guard inSection, line.hasPrefix("| `") else { continue }
            names.append(String(line.dropFirst(3).prefix { $0 != "`" }))
        }
        return names
    }

    @Test func everyEventIsInTheTableAndEveryRowIsAnEvent() {
        let page = ControlRequestTests.read("docs/control-socket.md")
        #expect(!page.isEmpty, "docs/control-socket.md not found")
        let documented = Self.documentedEvents(in: page)
        #expect(Set(documented).count == documented.count, "rows named twice: \(documented)")
        let known = Set(ControlEvent.Name.allCases.map(\.rawValue))
        #expect(Set(documented).subtracting(known).isEmpty, "documented but unknown: \(Set(documented).subtracting(known).sorted())")
        #expect(known.subtracting(documented).isEmpty, "published but undocumented: \(known.subtracting(documented).sorted())")
    }

    /// No event is published as a hand-written JSON literal past the enum (it would escape the table's check).
    @Test func theDoorPublishesNoUntypedEvent() {
        let files = Self.swiftFiles(in: "Sources/Door")
        #expect(files.contains("Device.swift"), "Sources/Door/Device.swift not found")
        for file in files {
            let text = ControlRequestTests.read("Sources/Door/" + file)
            #expect(!text.contains("\"event\":"), "Sources/Door/\(file) publishes an event as a JSON literal")
        }
    }

    /// The names of the Swift files in a folder of the repository (every file, so a new one is checked too).
    static func swiftFiles(in folder: String) -> [String] {
        guard let directory = opendir(ControlRequestTests.repository + "/" + folder) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".swift") { names.append(name) }
        }
        return names.sorted()
    }

    @Test func anEventsLineCarriesItsNameAndOnlyTheFieldsThatApply() {
        #expect(ControlEvent.roomOpened(code: "12345", link: "https://door/j#…").json
                == ["event": "room-opened", "code": "12345", "link": "https://door/j#…"])
        #expect(ControlEvent.phase("idle", peer: nil, connectionId: nil).json == ["event": "phase", "phase": "idle"])
        #expect(ControlEvent.phase("knock", peer: "p", connectionId: "mc_1").json
                == ["event": "phase", "phase": "knock", "peer": "p", "connectionId": "mc_1"])
        #expect(ControlEvent.callEnded(by: "remote", at: 1_700_000_000_123, reason: nil).json
                == ["event": "call-ended", "by": "remote", "at": .number(1_700_000_000_123)])
        #expect(ControlEvent.dataClosed(peer: "p", connectionId: "dc_1", reason: nil).json
                == ["event": "data-closed", "peer": "p", "connectionId": "dc_1", "reason": .null])
        #expect(ControlEvent.chat(from: "visitor", text: "hi", peer: nil, connectionId: nil).json
                == ["event": "chat", "from": "visitor", "text": "hi"])
        #expect(ControlEvent.pairingClosed.json == ["event": "pairing-closed"])
        #expect(ControlEvent.visitJoined(peer: "p", name: "Anna's phone", phones: 2).json
                == ["event": "visit-joined", "peer": "p", "name": "Anna's phone", "phones": .number(2)])
        #expect(ControlEvent.screen("ended", millis: 12.5, reason: "Call ended").json
                == ["event": "screen", "screen": "ended", "millis": .number(12.5), "reason": "Call ended"])
    }
}
