import CPangoCairo

/// Owns one `PangoLayout` (a GObject, released with `g_object_unref`): a block of text measured and drawn
/// with the font settings of the cairo context it was made for.
final class TextLayout {
    let pointer: OpaquePointer

    /// Lays out `text`; with `wrapWidth` it breaks lines (between words, inside a word only when it must).
    init(context: CairoContext, text: String, font: FontDescription, wrapWidth: Double? = nil) {
        pointer = pango_cairo_create_layout(context.pointer)
        pango_layout_set_font_description(pointer, font.pointer)
        pango_layout_set_alignment(pointer, PANGO_ALIGN_CENTER)
        if let wrapWidth {
            pango_layout_set_width(pointer, Int32(wrapWidth * Double(PANGO_SCALE)))
            pango_layout_set_wrap(pointer, PANGO_WRAP_WORD_CHAR)
            // A hyphen added where a link breaks would be typed in as part of it.
            let attributes = pango_attr_list_new()
            defer { pango_attr_list_unref(attributes) }  // the layout keeps its own reference
            pango_attr_list_insert(attributes, pango_attr_insert_hyphens_new(0))
            pango_layout_set_attributes(pointer, attributes)
        }
        pango_layout_set_text(pointer, text, -1)
    }

    deinit { g_object_unref(UnsafeMutableRawPointer(pointer)) }

    /// Cuts the text with "…" at `width`, the last resort for a line that cannot shrink any further.
    func ellipsize(at width: Double) {
        pango_layout_set_width(pointer, Int32(width * Double(PANGO_SCALE)))
        pango_layout_set_ellipsize(pointer, PANGO_ELLIPSIZE_END)
    }

    /// The logical size in pixels (line height included, so stacked blocks keep even spacing).
    var size: (width: Double, height: Double) {
        var width: Int32 = 0
        var height: Int32 = 0
        pango_layout_get_pixel_size(pointer, &width, &height)
        return (Double(width), Double(height))
    }

    /// Draws with the top edge at `top`, centred on `centerX`.
    func draw(on context: CairoContext, centerX: Double, top: Double, color: Color) {
        var logical = PangoRectangle()
        pango_layout_get_pixel_extents(pointer, nil, &logical)
        context.setColor(color)
        cairo_move_to(context.pointer, (centerX - Double(logical.width) / 2 - Double(logical.x)).rounded(), top.rounded())
        pango_cairo_show_layout(context.pointer, pointer)
    }
}
