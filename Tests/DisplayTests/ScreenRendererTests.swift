@testable import Display
import DoorCore
import Testing

@Suite struct ScreenRendererTests {
    static let link = "http://10.200.0.1:8080/?room=12345"
    static let sizes = [(800, 480), (1280, 720), (1920, 1080)]

    @Test(arguments: sizes)
    func roomQRDecodesToTheLink(width: Int, height: Int) throws {
        try inScratchDirectory("room-\(width)x\(height)") { dir in
            let sink = try SnapshotSink(directory: dir)
            let frame = try ScreenRenderer(width: width, height: height)
                .render(.room(code: "12345", link: Self.link, secondsLeft: 114))
            try sink.show(frame, screen: .room(code: "12345", link: Self.link, secondsLeft: 114))
            try sink.flush()
            let decoded = try decodeQR(sink.latestPath)
            #expect(decoded == Self.link)
        }
    }

    @Test func newLinkWithASecretFragmentDecodesAfterAnOldOne() throws {
        let secretLink = Self.link + "#s=Q2hvb3NlIGEgbG9uZyBzZWNyZXQgaGVyZQ"
        try inScratchDirectory("room-secret") { dir in
            let sink = try SnapshotSink(directory: dir)
            let renderer = try ScreenRenderer()
            _ = try renderer.render(.room(code: "12345", link: Self.link, secondsLeft: 5))
            let screen = Screen.room(code: "54321", link: secretLink, secondsLeft: 120)
            try sink.show(renderer.render(screen), screen: screen)
            try sink.flush()
            let decoded = try decodeQR(sink.latestPath)
            #expect(decoded == secretLink)
        }
    }

    @Test(arguments: sizes)
    func roomQRHasWholePixelModulesAndAQuietZone(width: Int, height: Int) throws {
        let frame = try ScreenRenderer(width: width, height: height)
            .render(.room(code: "12345", link: Self.link, secondsLeft: 114))
        func black(_ x: Int, _ y: Int) -> Bool { frame.pixel(x: x, y: y) == (0, 0, 0) }
        func white(_ x: Int, _ y: Int) -> Bool { frame.pixel(x: x, y: y) == (255, 255, 255) }
        // Only QR modules are pure black: the first one found is the top-left finder's corner.
        let top = try #require((0..<height).first { y in (0..<width).contains { black($0, y) } })
        let left = try #require((0..<width).first { black($0, top) })
        let finder = (left..<width).prefix { black($0, top) }.count
        #expect(finder % 7 == 0, "finder row is \(finder) px, not 7 whole modules")
        let module = finder / 7
        #expect(module * 480 >= 8 * height, "\(module) px per module at \(width)x\(height)")
        for i in 1...(4 * module) {
            #expect(white(left - i, top + module / 2) && white(left + module / 2, top - i), "quiet zone at \(i) px")
        }
    }

    @Test(arguments: sizes)
    func everyScreenDrawsTextOnItsBackground(width: Int, height: Int) throws {
        let renderer = try ScreenRenderer(width: width, height: height)
        try inScratchDirectory("screens-\(width)x\(height)") { dir in
            let sink = try SnapshotSink(directory: dir)
            let screens: [Screen] = [
                .idle(doorName: "Front door"),
                .room(code: "12345", link: Self.link, secondsLeft: 114),
                .room(code: "12345", link: Self.link, secondsLeft: 9),
                .knock(peer: "visitor-7f3a", secondsLeft: 27),
                .incomingCall(peer: "visitor-7f3a", secondsLeft: 4),
                .calling(peer: "Flat 3", secondsLeft: 21),
                .inCall(peer: "visitor-7f3a", seconds: 83, muted: false),
                .inCall(peer: "visitor-7f3a", seconds: 3725, muted: true),
                .ended(reason: "Call ended"),
                .error(message: "Camera unavailable: no /dev/video0 and no libcamera camera found"),
            ]
            for screen in screens {
                let frame = try renderer.render(screen)
                try sink.show(frame, screen: screen)
                #expect(frame.width == width && frame.height == height && frame.stride >= width * 4)
                let corner = frame.pixel(x: 0, y: 0)
                let expected: (UInt8, UInt8, UInt8) = if case .error = screen { (0x7A, 0x14, 0x14) } else { (0x10, 0x13, 0x17) }
                #expect(corner == expected, "\(screen) background")
                #expect(count(frame) { $0 == (255, 255, 255) } > width * height / 500, "\(screen) has little white text")
            }
        }
    }

    @Test func mutedBadgeShowsOnlyWhenMuted() throws {
        let renderer = try ScreenRenderer()
        let red: (UInt8, UInt8, UInt8) = (0xD3, 0x2F, 0x2F)
        let muted = try renderer.render(.inCall(peer: "p", seconds: 5, muted: true))
        let unmuted = try renderer.render(.inCall(peer: "p", seconds: 5, muted: false))
        #expect(count(muted) { $0 == red } > 1000)
        #expect(count(unmuted) { $0 == red } == 0)
    }

    @Test func promptCountdownTurnsToWarningInTheLastTenSeconds() throws {
        let renderer = try ScreenRenderer()
        let warning: (UInt8, UInt8, UInt8) = (0xFF, 0x74, 0x66)
        #expect(count(try renderer.render(.knock(peer: "p", secondsLeft: 11))) { $0 == warning } == 0)
        #expect(count(try renderer.render(.knock(peer: "p", secondsLeft: 10))) { $0 == warning } > 100)
    }

    @Test func clockShowsMinutesAndSeconds() {
        #expect(ScreenRenderer.clock(0) == "0:00")
        #expect(ScreenRenderer.clock(-3) == "0:00")
        #expect(ScreenRenderer.clock(114) == "1:54")
        #expect(ScreenRenderer.clock(600) == "10:00")
        #expect(ScreenRenderer.clock(3725) == "1:02:05")
    }

    @Test func nonPositiveSizeThrowsBadFrame() {
        #expect(throws: DisplayError.self) { try ScreenRenderer(width: 0, height: 480) }
    }

    private func count(_ frame: Frame, where match: ((UInt8, UInt8, UInt8)) -> Bool) -> Int {
        var n = 0
        for y in 0..<frame.height {
            for x in 0..<frame.width where match(frame.pixel(x: x, y: y)) { n += 1 }
        }
        return n
    }
}
