@testable import Display
import DoorCore
import Testing

/// The household visit's screen (docs/household.md): who is on, read back by OCR as a person at the door reads it.
@Suite struct VisitScreenTests {
    @Test func theVisitScreenListsTheNamesOfThePhonesOn() throws {
        let screen = Screen.visit(peers: ["Anna's phone", "Bob's laptop", "Cleo's tablet"], seconds: 75, muted: true)
        let frame = try ScreenRenderer(width: 800, height: 480).render(screen)
        let text = try ScreenLegibilityTests().ocr(frame, name: "visit-roster")
        for name in ["Anna", "Bob", "Cleo", "1:15", "Microphone muted"] {
            #expect(text.contains(name), "tesseract read: \(text)")
        }
    }

    @Test func theRosterChangesWithWhoIsOn() throws {
        let renderer = try ScreenRenderer(width: 800, height: 480)
        let three = try renderer.render(.visit(peers: ["Anna", "Bob", "Cleo"], seconds: 5, muted: false))
        let two = try renderer.render(.visit(peers: ["Anna", "Cleo"], seconds: 5, muted: false))
        #expect(three.pixels != two.pixels)
        #expect(Screen.visit(peers: ["p1", "p2"], seconds: 1, muted: false).labelingCallers { $0 == "p1" ? "Anna" : "Bob" }
                == .visit(peers: ["Anna", "Bob"], seconds: 1, muted: false))
    }
}
