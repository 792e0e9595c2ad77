@testable import Display
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct QRCodeTests {
    @Test func linkGivesAValidSymbolWithThreeFinderPatterns() throws {
        let code = try QRCode("http://10.200.0.1:8080/?room=12345")
        #expect(code.size >= 21)
        #expect(code.size % 2 == 1)
        #expect((code.size - 17) % 4 == 0, "size \(code.size) is no QR version")
        let last = code.size - 7
        for (left, top) in [(0, 0), (last, 0), (0, last)] {
            for dy in 0..<7 {
                for dx in 0..<7 {
                    // Finder: dark 7×7 ring, light 5×5 ring, dark 3×3 centre.
                    let ring = max(abs(dx - 3), abs(dy - 3))
                    #expect(code.isDark(x: left + dx, y: top + dy) == (ring != 2),
                            "finder at (\(left), \(top)) module (\(dx), \(dy))")
                }
            }
        }
        // The light separator next to the top-left finder.
        for i in 0...7 {
            #expect(!code.isDark(x: 7, y: i))
            #expect(!code.isDark(x: i, y: 7))
        }
    }

    @Test func shortTextIsVersionOne() throws {
        #expect(try QRCode("12345").size == 21)
    }

    @Test func outsideTheSymbolIsLight() throws {
        let code = try QRCode("12345")
        #expect(!code.isDark(x: -1, y: 0))
        #expect(!code.isDark(x: 0, y: code.size))
    }

    @Test func tooLongTextThrowsQREncodingFailed() {
        let text = String(repeating: "x", count: 3000)
        #expect(throws: DisplayError.qrEncodingFailed(length: 3000, errno: ERANGE)) { try QRCode(text) }
    }
}
