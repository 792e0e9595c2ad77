import CPangoCairo

/// Turns upright frames a quarter, half or three quarters for a panel mounted that way, with cairo (pixman has
/// fast paths for right-angle turns): `cairo_translate` + `cairo_rotate`, then `cairo_paint` of the upright frame
/// into a surface of the panel's own geometry.
///
/// This replaces `videoflip` in the output pipeline: GStreamer 1.22's videoflip negotiates its output caps
/// before it applies `method`, so a 768×1024 frame turned for a 1024×768 mode is offered downstream as 768×1024
/// and kmssink, which accepts only mode sizes, refuses it ("not-negotiated", docs/kernel-vm.md).
final class FrameRotator {
    let rotation: VideoOutputSink.Rotation
    /// The upright frame's size, as the renderer draws it.
    let width: Int
    let height: Int
    private let target: CairoSurface
    private let context: CairoContext

    /// The size of the turned frame: what the panel scans out.
    var outputWidth: Int { rotation.swapsAxes ? height : width }
    var outputHeight: Int { rotation.swapsAxes ? width : height }

    init(rotation: VideoOutputSink.Rotation, width: Int, height: Int) throws {
        self.rotation = rotation
        self.width = width
        self.height = height
        let swaps = rotation.swapsAxes
        target = try CairoSurface(width: swaps ? height : width, height: swaps ? width : height)
        context = try CairoContext(surface: target)
        let cr = context.pointer
        // Device = user turned clockwise by the rotation; the translation puts the turned picture back at (0, 0).
        switch rotation {
        case .none: break
        case .clockwise: cairo_translate(cr, Double(height), 0)
        case .upsideDown: cairo_translate(cr, Double(width), Double(height))
        case .counterclockwise: cairo_translate(cr, 0, Double(width))
        }
        cairo_rotate(cr, Double(rotation.rawValue) * Double.pi / 180)
        cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE)
    }

    /// The frame turned; calls `body` with the turned pixels (BGRx, rows `stride` bytes apart), valid only inside.
    func rotate<T>(_ frame: Frame, _ body: (UnsafeRawBufferPointer, _ stride: Int) throws -> T) throws -> T {
        guard frame.width == width, frame.height == height else {
            throw DisplayError.badFrame("\(frame.width)x\(frame.height) frame for a \(width)x\(height) rotator")
        }
        try frame.pixels.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { throw DisplayError.badFrame("empty frame") }
            // cairo only reads a source surface, so the frame's bytes are lent without a copy.
            let source = try CairoSurface(borrowing: UnsafeMutableRawPointer(mutating: base), count: bytes.count,
                                          width: frame.width,
                                          height: frame.height, stride: frame.stride)
            let cr = context.pointer
            cairo_set_source_surface(cr, source.pointer, 0, 0)
            cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
            cairo_paint(cr)
            cairo_set_source_rgb(cr, 0, 0, 0)  // drops the context's reference on the borrowed surface
            try target.check("rotating a frame by \(rotation.rawValue)°")
        }
        cairo_surface_flush(target.pointer)
        let stride = Int(cairo_image_surface_get_stride(target.pointer))
        guard let data = cairo_image_surface_get_data(target.pointer) else {
            throw DisplayError.cairo(status: "no pixel data", context: "cairo_image_surface_get_data")
        }
        return try body(UnsafeRawBufferPointer(start: data, count: stride * outputHeight), stride)
    }
}
