import Testing
@testable import Media

/// The benchmark's clock stamp: what is drawn into a picture reads back, also after the picture is scaled and
/// blurred a little, and a picture without a stamp reads as nothing.
@Suite struct ClockStampTests {
    static let millis: Int64 = 1_764_000_123_456

    func plane(width: Int, height: Int, stride: Int, fill: UInt8) -> [UInt8] {
        [UInt8](repeating: fill, count: stride * height)
    }

    @Test(arguments: [(640, 480, 640), (1280, 720, 1296), (320, 240, 320)])
    func drawnStampReadsBack(width: Int, height: Int, stride: Int) {
        var luma = plane(width: width, height: height, stride: stride, fill: 90)
        luma.withUnsafeMutableBytes {
            ClockStamp.draw(Self.millis, luma: $0.baseAddress!, width: width, height: height, stride: stride)
        }
        let stamp = luma.withUnsafeBytes {
            ClockStamp.read(luma: $0.baseAddress!, width: width, height: height, stride: stride)
        }
        #expect(stamp == Self.millis & ((1 << 42) - 1))
        #expect(ClockStamp.unwrap(stamp ?? 0, now: Self.millis + 80) == Self.millis)
    }

    @Test func halfSizePictureStillReads() {
        var big = plane(width: 1280, height: 720, stride: 1280, fill: 16)
        big.withUnsafeMutableBytes { ClockStamp.draw(Self.millis, luma: $0.baseAddress!, width: 1280, height: 720, stride: 1280) }
        // What a receiver that gets the picture at half size sees: each pixel the mean of four.
        var small = plane(width: 640, height: 360, stride: 640, fill: 0)
        for y in 0..<360 {
            for x in 0..<640 {
                let sum = Int(big[2 * y * 1280 + 2 * x]) + Int(big[2 * y * 1280 + 2 * x + 1])
                    + Int(big[(2 * y + 1) * 1280 + 2 * x]) + Int(big[(2 * y + 1) * 1280 + 2 * x + 1])
                small[y * 640 + x] = UInt8(sum / 4)
            }
        }
        let stamp = small.withUnsafeBytes { ClockStamp.read(luma: $0.baseAddress!, width: 640, height: 360, stride: 640) }
        #expect(stamp.map { ClockStamp.unwrap($0, now: Self.millis) } == Self.millis)
    }

    @Test(arguments: [UInt8(16), 235, 128])
    func pictureWithoutStampReadsAsNothing(fill: UInt8) {
        let luma = plane(width: 640, height: 480, stride: 640, fill: fill)
        #expect(luma.withUnsafeBytes { ClockStamp.read(luma: $0.baseAddress!, width: 640, height: 480, stride: 640) } == nil)
    }

    @Test func unwrapAcrossTheModulus() {
        let modulus = Int64(1) << 42
        let sent = 5 * modulus - 10 // stamped just before the low bits wrap, read just after
        #expect(ClockStamp.unwrap(sent % modulus, now: sent + 30) == sent)
    }
}
