@testable import Display
import Glibc
import DoorCore
import MainLoop
import Testing

/// What a person at the door sees: the code read back by OCR, the QR in portrait, the caller's video in a call.
/// One OCR at a time: each test blocks a thread of the test pool in tesseract for a second or more, and with both
/// threads of a 2-core machine held, other suites' awaits (the media tests' polls) wait as long.
@Suite(.serialized) struct ScreenLegibilityTests {
    static let link = "http://10.200.0.1:8080/?room=12345"
    static let landscape = [(800, 480), (1280, 720), (1920, 1080)]
    static let portrait = [(480, 800), (720, 1280), (1080, 1920)]

    @Test(arguments: landscape + portrait)
    func tesseractReadsTheRoomCode(width: Int, height: Int) throws {
        let frame = try ScreenRenderer(width: width, height: height)
            .render(.room(code: "12345", link: Self.link, secondsLeft: 90))
        let text = try ocr(frame, name: "code-\(width)x\(height)")
        #expect(text.contains("12345"), "tesseract read: \(text)")
    }

    @Test func theSecretIsInTheQRButNotInTheTypedAddress() throws {
        let secretLink = Self.link + "#k=c2VjcmV0LXNlY3JldC1zZWNyZXQ"
        let frame = try ScreenRenderer().render(.room(code: "12345", link: secretLink, secondsLeft: 90))
        try inScratchDirectory("typed-address") { dir in
            let sink = try SnapshotSink(directory: dir)
            try sink.show(frame, screen: .room(code: "12345", link: secretLink, secondsLeft: 90))
            try sink.flush()
            #expect(try decodeQR(sink.latestPath) == secretLink)
        }
        let text = try ocr(frame, name: "typed-address")
        #expect(text.contains("room=12345"), "tesseract read: \(text)")
        #expect(!text.contains("c2Vj") && !text.contains("#k"), "the secret is printed: \(text)")
    }

    @Test(arguments: portrait)
    func portraitRoomQRDecodesToTheLink(width: Int, height: Int) throws {
        try inScratchDirectory("portrait-\(width)x\(height)") { dir in
            let sink = try SnapshotSink(directory: dir)
            let screen = Screen.room(code: "12345", link: Self.link, secondsLeft: 90)
            try sink.show(ScreenRenderer(width: width, height: height).render(screen), screen: screen)
            try sink.flush()
            #expect(try decodeQR(sink.latestPath) == Self.link)
        }
    }

    @Test(arguments: landscape)
    func inCallScreenShowsTheCallersVideo(width: Int, height: Int) throws {
        // A 320×240 picture: left half red, right half blue.
        var pixels = [UInt8](repeating: 0, count: 320 * 240 * 4)
        for y in 0..<240 {
            for x in 0..<320 {
                let i = (y * 320 + x) * 4
                if x < 160 { pixels[i + 2] = 220 } else { pixels[i] = 220 }
            }
        }
        let video = VideoPicture(width: 320, height: 240, stride: 320 * 4, pixels: pixels)
        let renderer = try ScreenRenderer(width: width, height: height)
        let screen = Screen.inCall(peer: "Visitor", seconds: 65, muted: true)
        let withVideo = try renderer.render(screen, video: video)
        let plain = try renderer.render(screen)
        // The video fills the screen: red on the left, blue on the right, well below the top bar.
        let left = withVideo.pixel(x: width / 4, y: height / 2)
        let right = withVideo.pixel(x: width * 3 / 4, y: height / 2)
        #expect(left.red > 180 && left.blue < 60, "left \(left)")
        #expect(right.blue > 180 && right.red < 60, "right \(right)")
        #expect(plain.pixel(x: width / 4, y: height / 2) == (0x10, 0x13, 0x17), "no video: plain background")
        // The overlay stays readable over the video: the timer in the bar and the muted badge.
        let text = try ocr(withVideo, name: "call-\(width)x\(height)")
        #expect(text.contains("1:05"), "tesseract read: \(text)")
        #expect(text.contains("muted"), "tesseract read: \(text)")
    }

    /// The knock and incoming-call screens tell the person at the door which button does what.
    @Test(arguments: [Screen.knock(peer: "visitor-7f3a", secondsLeft: 27),
                      Screen.incomingCall(peer: "visitor-7f3a", secondsLeft: 27)])
    func promptScreensSayWhichButtonDoesWhat(screen: Screen) throws {
        let frame = try ScreenRenderer().render(screen)
        let words = try ocr(frame, name: SnapshotSink.caseName(screen))
            .split(whereSeparator: \.isWhitespace).joined(separator: " ").uppercased()
        let title = if case .knock = screen { "SOMEONE IS KNOCKING" } else { "INCOMING CALL" }
        for expected in [title, "PRESS ANSWER TO TALK", "DECLINE TO REFUSE", "WAITING 0:27"] {
            #expect(words.contains(expected), "\(screen): no \"\(expected)\" in \(words.debugDescription)")
        }
    }

    /// The door calling out says so, names whom, and how to stop it.
    @Test func callingScreenSaysWhomAndHowToCancel() throws {
        let screen = Screen.calling(peer: "Flat 3", secondsLeft: 21)
        let words = try ocr(try ScreenRenderer().render(screen), name: SnapshotSink.caseName(screen))
            .split(whereSeparator: \.isWhitespace).joined(separator: " ").uppercased()
        for expected in ["CALLING", "FLAT 3", "PRESS DECLINE TO CANCEL", "WAITING 0:21"] {
            #expect(words.contains(expected), "no \"\(expected)\" in \(words.debugDescription)")
        }
    }

    @Test func selfViewSitsInTheBottomRightCorner() throws {
        func solid(_ blue: UInt8, _ green: UInt8, _ red: UInt8, width: Int, height: Int) -> VideoPicture {
            VideoPicture(width: width, height: height, stride: width * 4,
                         pixels: Array((0..<(width * height)).map { _ in [blue, green, red, 0] }.joined()))
        }
        let renderer = try ScreenRenderer()
        let frame = try renderer.render(.inCall(peer: "Visitor", seconds: 3, muted: false),
                                        video: solid(200, 0, 0, width: 64, height: 48),
                                        selfView: solid(0, 200, 0, width: 200, height: 150))
        // 800×480: the self-view is 200 px wide, 24 px in from the right and bottom edges.
        let inside = frame.pixel(x: 800 - 24 - 100, y: 480 - 24 - 75)
        #expect(inside.green > 180 && inside.blue < 60, "self-view \(inside)")
        let caller = frame.pixel(x: 200, y: 240)
        #expect(caller.blue > 180 && caller.green < 60, "caller \(caller)")
    }

    @Test func malformedVideoIsIgnored() throws {
        let renderer = try ScreenRenderer()
        let broken = VideoPicture(width: 100, height: 100, stride: 400, pixels: [0, 1, 2])
        let frame = try renderer.render(.inCall(peer: "Visitor", seconds: 1, muted: false), video: broken)
        #expect(frame.pixel(x: 200, y: 240) == (0x10, 0x13, 0x17))
    }

    /// Inverts the frame to dark-on-light grey (how OCR engines expect print) and runs `tesseract` on it.
    func ocr(_ frame: Frame, name: String) throws -> String {
        try #require(access("/usr/bin/tesseract", X_OK) == 0, "tesseract is missing: apt install tesseract-ocr")
        var text = ""
        try inScratchDirectory("ocr-\(name)") { dir in
            var pgm = Array("P5\n\(frame.width) \(frame.height)\n255\n".utf8)
            pgm.reserveCapacity(pgm.count + frame.width * frame.height)
            for y in 0..<frame.height {
                for x in 0..<frame.width {
                    let p = frame.pixel(x: x, y: y)
                    let luma = (Int(p.red) * 299 + Int(p.green) * 587 + Int(p.blue) * 114) / 1000
                    pgm.append(UInt8(255 - luma))
                }
            }
            let path = dir + "/screen.pgm"
            let file = try #require(fopen(path, "wb"))
            fwrite(pgm, 1, pgm.count, file)
            fclose(file)
            // Page layouts differ in what they find on a screen with a QR code beside text: read the screen as
            // a page (3), as sparse text (11) and as one block (6), and keep everything read.
            for mode in [3, 11, 6] {
                let pipe = try #require(popen("/usr/bin/tesseract '\(path)' stdout --psm \(mode) 2>/dev/null", "r"))
                var buffer = [UInt8](repeating: 0, count: 4096)
                var output: [UInt8] = []
                while true {
                    let n = fread(&buffer, 1, buffer.count, pipe)
                    if n == 0 { break }
                    output += buffer[0..<n]
                }
                pclose(pipe)
                text += String(decoding: output, as: UTF8.self) + "\n"
            }
            if let keep = getenv("DISPLAY_TEST_OUTPUT") {
                let sink = try SnapshotSink(directory: String(cString: keep) + "/ocr-png-" + name)
                try sink.show(frame, screen: .error(message: name))
                try sink.flush()
            }
        }
        return text
    }
}

/// Choosing the output on a machine without DRM or a window system: snapshots, in one log line.
@Suite(.serialized) struct DisplayBackendTests {
    init() { GLibLoop.shared.start() }

    @Test func autoFallsBackToSnapshotsAndExplicitDRMFails() async throws {
        unsetenv("DISPLAY")
        unsetenv("WAYLAND_DISPLAY")
        try await Self.check()
    }

    @GLibActor static func check() throws {
        try inScratchDirectory("backend") { dir in
            var configuration = DisplayBackend.Configuration()
            configuration.drmDirectory = dir + "/no-dri"
            configuration.snapshotDirectory = dir + "/snapshots"
            let opened = try DisplayBackend.open(configuration)
            #expect(opened.snapshots?.directory == dir + "/snapshots")
            #expect(opened.description.hasPrefix("snapshots 800x480"))
            opened.display.show(.idle(doorName: "Front door"))
            try opened.snapshots?.flush()
            #expect(fileExists(dir + "/snapshots/latest.png"))

            configuration.rotation = .clockwise
            let portrait = try DisplayBackend.open(configuration)
            #expect((portrait.display.width, portrait.display.height) == (480, 800))

            configuration.mode = .drm
            #expect { try DisplayBackend.open(configuration) } throws: { error in
                guard case DisplayError.noDisplay(let reason)? = error as? DisplayError else { return false }
                return reason.contains("no-dri/card*")
            }
            configuration.mode = .window
            #expect { try DisplayBackend.open(configuration) } throws: { error in
                guard case DisplayError.noDisplay(let reason)? = error as? DisplayError else { return false }
                return reason.contains("no window system")
            }
        }
    }

    @Test func kmsOutputWithoutADeviceFailsCleanly() throws {
        #expect { try VideoOutputSink(output: .kms(driver: "vc4", connectorID: 32, canScale: true), width: 800, height: 480) }
            throws: { error in
                guard case DisplayError.noDisplay(let reason)? = error as? DisplayError else { return false }
                return reason.hasPrefix("kmssink (vc4, connector 32)")
            }
    }
}
