/// One rendered screen as plain bytes, so sinks (PNG snapshots, a KMS/appsrc sink) need no cairo.
///
/// Pixels are BGRx, 4 bytes each (cairo `CAIRO_FORMAT_RGB24` on a little-endian CPU, DRM `XRGB8888`,
/// GStreamer `BGRx`); rows start `stride` bytes apart and the x byte is undefined.
public struct Frame: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let stride: Int
    public let pixels: [UInt8]

    public init(width: Int, height: Int, stride: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.stride = stride
        self.pixels = pixels
    }

    /// The colour at (`x`, `y`), for tests and for sinks that convert formats.
    public func pixel(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)x\(height)")
        let i = y * stride + x * 4
        return (pixels[i + 2], pixels[i + 1], pixels[i])
    }
}
