import CPangoCairo

/// Owns one `cairo_t` drawing context and destroys it in `deinit`; a few drawing helpers in device pixels.
final class CairoContext {
    let pointer: OpaquePointer

    /// `cairo_create` takes its own reference on the surface, so the context may outlive the caller's handle.
    init(surface: CairoSurface) throws {
        pointer = cairo_create(surface.pointer)
        let status = cairo_status(pointer)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw DisplayError.cairo(status: String(cString: cairo_status_to_string(status)), context: "cairo_create")
        }
    }

    deinit { cairo_destroy(pointer) }

    func setColor(_ color: Color) {
        cairo_set_source_rgb(pointer, color.red, color.green, color.blue)
    }

    func fill(_ color: Color) {
        setColor(color)
        cairo_paint(pointer)
    }

    func fillRectangle(x: Double, y: Double, width: Double, height: Double, color: Color) {
        setColor(color)
        cairo_rectangle(pointer, x, y, width, height)
        cairo_fill(pointer)
    }

    func fillRoundedRectangle(x: Double, y: Double, width: Double, height: Double, radius: Double, color: Color) {
        let r = min(radius, width / 2, height / 2)
        cairo_new_sub_path(pointer)
        cairo_arc(pointer, x + width - r, y + r, r, -.pi / 2, 0)
        cairo_arc(pointer, x + width - r, y + height - r, r, 0, .pi / 2)
        cairo_arc(pointer, x + r, y + height - r, r, .pi / 2, .pi)
        cairo_arc(pointer, x + r, y + r, r, .pi, 3 * .pi / 2)
        cairo_close_path(pointer)
        setColor(color)
        cairo_fill(pointer)
    }
}
