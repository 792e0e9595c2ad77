@testable import Display
import DoorCore
import Testing

/// The pairing window's screen at every size the other screens support: the QR decodes to the whole pairing
/// link, the words say what to do, and the token is nowhere in the words.
@Suite struct PairingScreenTests {
    static let token = "AAECAwQFBgcICQoLDA0ODw"
    static let link = "http://10.200.0.1:8080/?pair=intercom-home-8f2c1e0b5a6d4c3e9f1a2b3c4d5e6f70#p=" + token
    static let sizes = ScreenLegibilityTests.landscape + ScreenLegibilityTests.portrait

    @Test(arguments: sizes)
    func pairingQRDecodesToThePairingLink(width: Int, height: Int) throws {
        try inScratchDirectory("pairing-\(width)x\(height)") { dir in
            let sink = try SnapshotSink(directory: dir)
            let screen = Screen.pairing(link: Self.link, secondsLeft: 97)
            try sink.show(ScreenRenderer(width: width, height: height).render(screen), screen: screen)
            try sink.flush()
            #expect(try decodeQR(sink.latestPath) == Self.link)
        }
    }

    @Test(arguments: [(800, 480), (480, 800)])
    func pairingScreenSaysWhatToDoAndHidesTheToken(width: Int, height: Int) throws {
        let frame = try ScreenRenderer(width: width, height: height).render(.pairing(link: Self.link, secondsLeft: 97))
        let words = try ScreenLegibilityTests().ocr(frame, name: "pairing-\(width)x\(height)")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ").uppercased()
        for expected in ["PAIR A PHONE", "SCAN WITH THE PHONE", "YOU WANT TO RING", "CLOSES IN 1:37"] {
            #expect(words.contains(expected), "no \"\(expected)\" in \(words.debugDescription)")
        }
        #expect(!words.contains(Self.token.uppercased().prefix(8)), "the token is printed: \(words)")
    }

    @Test(arguments: sizes)
    func pairedScreenNamesTheBrowser(width: Int, height: Int) throws {
        let frame = try ScreenRenderer(width: width, height: height).render(.paired(name: "Anna's phone"))
        #expect(frame.pixel(x: 0, y: 0) == (0x10, 0x13, 0x17))
        if (width, height) == (800, 480) {
            let words = try ScreenLegibilityTests().ocr(frame, name: "paired").uppercased()
            #expect(words.contains("PAIRED: ANNA'S PHONE") || words.contains("PAIRED: ANNA’S PHONE"), "\(words)")
        }
    }
}
