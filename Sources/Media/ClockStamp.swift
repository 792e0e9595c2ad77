/// A wall-clock time drawn into video pictures so that a receiver on the same machine can measure
/// glass-to-glass latency (the benchmarks in `bench/`; `MediaSettings.clockStamp` turns it on).
///
/// The pattern, on the luma plane and relative to the picture so it survives scaling: two rows at the top, each
/// `height / rowsPerHeight` high and split into `bits` equal cells. The first row holds the low `bits` bits of
/// the milliseconds since 1970, most significant first, white = 1; the second row holds the same bits inverted,
/// so a picture whose rows disagree (the encoder smeared them) is rejected instead of misread.
/// `bench/page-hooks.js` draws and reads the same pattern in the browser.
public enum ClockStamp {
    public static let bits = 42
    public static let rowsPerHeight = 16
    static let white: UInt8 = 235 // limited-range luma, what encoders expect from a camera
    static let black: UInt8 = 16

    /// Draws `millis` into the luma plane (`stride` bytes a row).
    public static func draw(_ millis: Int64, luma: UnsafeMutableRawPointer, width: Int, height: Int, stride: Int) {
        let rowHeight = height / rowsPerHeight
        guard width >= bits, rowHeight > 0 else { return }
        for row in 0..<2 {
            for bit in 0..<bits {
                let one = (millis >> Int64(bits - 1 - bit)) & 1 == 1
                let value = (one != (row == 1)) ? white : black
                let x0 = bit * width / bits, x1 = (bit + 1) * width / bits
                for y in row * rowHeight..<(row + 1) * rowHeight {
                    (luma + y * stride + x0).initializeMemory(as: UInt8.self, repeating: value, count: x1 - x0)
                }
            }
        }
    }

    /// Reads the stamp back, or nil when the two rows do not agree. Each cell's middle half is averaged.
    public static func read(luma: UnsafeRawPointer, width: Int, height: Int, stride: Int) -> Int64? {
        let rowHeight = height / rowsPerHeight
        guard width >= bits * 4, rowHeight >= 4 else { return nil }
        var value: Int64 = 0
        for bit in 0..<bits {
            let x0 = bit * width / bits, x1 = (bit + 1) * width / bits
            let first = mean(luma, x: x0 + (x1 - x0) / 4, x1 - (x1 - x0) / 4, y: rowHeight / 4, rowHeight * 3 / 4, stride)
            let second = mean(luma, x: x0 + (x1 - x0) / 4, x1 - (x1 - x0) / 4,
                              y: rowHeight + rowHeight / 4, rowHeight + rowHeight * 3 / 4, stride)
            let one = first > 128
            guard one != (second > 128) else { return nil }
            value = value << 1 | (one ? 1 : 0)
        }
        return value
    }

    /// The full time in milliseconds for a stamp read at `now` (the stamp keeps only the low `bits` bits).
    public static func unwrap(_ stamp: Int64, now: Int64) -> Int64 {
        let modulus = Int64(1) << Int64(bits)
        var full = now - (now % modulus) + stamp
        if full > now + modulus / 2 { full -= modulus }
        return full
    }

    private static func mean(_ luma: UnsafeRawPointer, x x0: Int, _ x1: Int, y y0: Int, _ y1: Int, _ stride: Int) -> Int {
        var sum = 0, count = 0
        for y in y0..<y1 {
            let row = (luma + y * stride).assumingMemoryBound(to: UInt8.self)
            for x in x0..<x1 { sum += Int(row[x]); count += 1 }
        }
        return count == 0 ? 0 : sum / count
    }
}
