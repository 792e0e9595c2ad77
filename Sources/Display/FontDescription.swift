import CPangoCairo

/// Owns one `PangoFontDescription` and frees it in `deinit`.
final class FontDescription {
    let pointer: OpaquePointer

    /// Sizes are absolute pixels so text scales with the panel, not with a DPI setting the device does not have.
    init(family: String = "DejaVu Sans", pixels: Double, bold: Bool) {
        pointer = pango_font_description_new()
        pango_font_description_set_family(pointer, family)
        pango_font_description_set_weight(pointer, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL)
        pango_font_description_set_absolute_size(pointer, pixels * Double(PANGO_SCALE))
    }

    deinit { pango_font_description_free(pointer) }
}
