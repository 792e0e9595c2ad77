import CPangoCairo
#if canImport(Glibc)
import Glibc
#endif

/// Owns one `cairo_surface_t` image surface and destroys it in `deinit`.
final class CairoSurface {
    let pointer: OpaquePointer

    /// A new `CAIRO_FORMAT_RGB24` surface: BGRx in memory on little-endian CPUs, the layout of DRM `XRGB8888`.
    init(width: Int, height: Int) throws {
        pointer = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(clamping: width), Int32(clamping: height))
        try check("cairo_image_surface_create \(width)x\(height)")
    }

    /// Wraps caller-owned BGRx bytes (`cairo_image_surface_create_for_data`); they must outlive the surface.
    init(borrowing data: UnsafeMutableRawPointer, count: Int, width: Int, height: Int, stride: Int) throws {
        let minimum = Int(cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, Int32(clamping: width)))
        guard width > 0, height > 0, minimum > 0, stride >= minimum, stride % 4 == 0, count >= stride * height else {
            throw DisplayError.badFrame("\(width)x\(height) stride \(stride) does not fit \(count) bytes")
        }
        pointer = cairo_image_surface_create_for_data(
            data.assumingMemoryBound(to: UInt8.self), CAIRO_FORMAT_RGB24,
            Int32(width), Int32(height), Int32(stride))
        try check("cairo_image_surface_create_for_data")
    }

    deinit { cairo_surface_destroy(pointer) }

    /// cairo reports failures through a sticky status instead of return values; this turns it into a throw.
    func check(_ context: String) throws {
        let status = cairo_surface_status(pointer)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw DisplayError.cairo(status: String(cString: cairo_status_to_string(status)), context: context)
        }
    }

    /// Copies the pixels out after finishing all drawing (`cairo_surface_flush`).
    func frame() throws -> Frame {
        cairo_surface_flush(pointer)
        try check("cairo_surface_flush")
        let width = Int(cairo_image_surface_get_width(pointer))
        let height = Int(cairo_image_surface_get_height(pointer))
        let stride = Int(cairo_image_surface_get_stride(pointer))
        guard let data = cairo_image_surface_get_data(pointer) else {
            throw DisplayError.cairo(status: "no pixel data", context: "cairo_image_surface_get_data")
        }
        let pixels = Array(UnsafeBufferPointer(start: data, count: stride * height))
        return Frame(width: width, height: height, stride: stride, pixels: pixels)
    }

    /// `cairo_surface_write_to_png`, with the errno behind a write error in the message.
    func writePNG(to path: String) throws {
        errno = 0
        let status = cairo_surface_write_to_png(pointer, path)
        guard status == CAIRO_STATUS_SUCCESS else {
            let reason = String(cString: cairo_status_to_string(status))
            throw DisplayError.snapshotWrite(path: path, reason: errno == 0 ? reason : "\(reason) (\(errnoText(errno)))")
        }
    }
}
