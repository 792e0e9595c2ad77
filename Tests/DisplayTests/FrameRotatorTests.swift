@testable import Display
import Testing

/// Each corner of a 3×2 frame lands where a clockwise turn by the rotation puts it, and the turned frame has the
/// panel's geometry (what kmssink is given).
@Suite struct FrameRotatorTests {
    /// A 3×2 frame whose pixel (x, y) has blue = 10·x + y + 1.
    static let frame: Frame = {
        var pixels = [UInt8](repeating: 0, count: 3 * 2 * 4)
        for y in 0..<2 { for x in 0..<3 { pixels[y * 12 + x * 4] = UInt8(10 * x + y + 1) } }
        return Frame(width: 3, height: 2, stride: 12, pixels: pixels)
    }()

    /// The turned frame as rows of blue values.
    static func turned(_ rotation: VideoOutputSink.Rotation) throws -> [[UInt8]] {
        let rotator = try FrameRotator(rotation: rotation, width: 3, height: 2)
        return try rotator.rotate(frame) { pixels, stride in
            (0..<rotator.outputHeight).map { y in (0..<rotator.outputWidth).map { x in pixels[y * stride + x * 4] } }
        }
    }

    @Test func noTurnKeepsTheFrame() throws {
        #expect(try Self.turned(.none) == [[1, 11, 21], [2, 12, 22]])
    }

    @Test func clockwisePutsTheTopLeftCornerTopRight() throws {
        #expect(try Self.turned(.clockwise) == [[2, 1], [12, 11], [22, 21]])
    }

    @Test func upsideDownSwapsOppositeCorners() throws {
        #expect(try Self.turned(.upsideDown) == [[22, 12, 2], [21, 11, 1]])
    }

    @Test func counterclockwisePutsTheTopLeftCornerBottomLeft() throws {
        #expect(try Self.turned(.counterclockwise) == [[21, 22], [11, 12], [1, 2]])
    }

    @Test func aFrameOfAnotherSizeThrowsBadFrame() throws {
        let rotator = try FrameRotator(rotation: .clockwise, width: 4, height: 2)
        #expect(throws: DisplayError.self) { try rotator.rotate(Self.frame) { _, _ in () } }
    }
}
