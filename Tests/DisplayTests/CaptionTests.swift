@testable import Display
import DoorCore
import Testing

@Suite struct CaptionTests {
    @Test func captionsHoldThenFadeAndAtMostThreeShow() {
        var queue = CaptionQueue()
        queue.add("one", at: 0)
        #expect(queue.captions(at: 4_999) == [Caption(text: "one", opacity: 1)])
        #expect(queue.captions(at: 5_500) == [Caption(text: "one", opacity: 0.5)])
        #expect(queue.captions(at: 6_000).isEmpty)
        for (i, text) in ["a", "b", "c", "d"].enumerated() { queue.add(text, at: 10_000 + Int64(i)) }
        #expect(queue.captions(at: 10_010).map(\.text) == ["b", "c", "d"])
    }

    @Test func aChatLineReadsOverTheCallAndAFadedOneIsGone() throws {
        let renderer = try ScreenRenderer()
        let screen = Screen.inCall(peer: "Visitor", seconds: 12, muted: false)
        let shown = try renderer.render(screen, captions: [Caption(text: "Parcel for flat 4", opacity: 1)])
        let text = try ScreenLegibilityTests().ocr(shown, name: "caption")
        #expect(text.contains("Parcel for flat 4"), "tesseract read: \(text)")
        let faded = try renderer.render(screen, captions: [Caption(text: "Parcel for flat 4", opacity: 0)])
        #expect(faded == (try renderer.render(screen)), "a caption at opacity 0 still changed the picture")
    }
}
