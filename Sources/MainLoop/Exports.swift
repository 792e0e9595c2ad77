// The GLib thread's helpers for modules that own C objects.
import CGLib

/// Copies and frees a `gchar*` that GLib handed over.
public func takeGString(_ pointer: UnsafeMutablePointer<gchar>?) -> String? {
    guard let pointer else { return nil }
    defer { g_free(pointer) }
    return String(cString: pointer)
}
