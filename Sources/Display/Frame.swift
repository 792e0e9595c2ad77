import DoorCore

/// One rendered screen as plain bytes, so sinks (PNG snapshots, kmssink through appsrc) need no cairo.
///
/// The same BGRx layout as the caller's decoded video (`VideoPicture`): 4 bytes per pixel (cairo
/// `CAIRO_FORMAT_RGB24` on a little-endian CPU, DRM `XRGB8888`, GStreamer `BGRx`); rows start `stride` bytes
/// apart and the x byte is undefined.
public typealias Frame = VideoPicture

extension VideoPicture {
    /// The colour at (`x`, `y`), for tests and for sinks that convert formats.
    public func pixel(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)x\(height)")
        let i = y * stride + x * 4
        return (pixels[i + 2], pixels[i + 1], pixels[i])
    }
}
