import Testing
@testable import DoorCore

@Suite struct CallerNameTests {
    @Test func nameFromMetadataOrVisitor() {
        #expect(CallerName.from(metadata: ["name": "  Anna  "]) == "Anna")
        #expect(CallerName.from(metadata: nil) == "Visitor")
        #expect(CallerName.from(metadata: ["name": 5]) == "Visitor")
        #expect(CallerName.from(metadata: ["name": "\u{202E}\u{0007}  "]) == "Visitor")
        #expect(CallerName.from(metadata: ["name": .string(String(repeating: "x", count: 100))]).count == 40)
    }

    @Test func screensShowLabelsNotPeerIDs() {
        let screen = Screen.inCall(peer: "0fe19413-572d-4a34", seconds: 5, muted: false)
        #expect(screen.labelingCallers { _ in "Visitor" } == .inCall(peer: "Visitor", seconds: 5, muted: false))
        #expect(Screen.idle(doorName: "Front").labelingCallers { _ in "x" } == .idle(doorName: "Front"))
    }
}
