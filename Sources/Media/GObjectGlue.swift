import CGStreamer

/// Casts between GObject pointer types (what the `GST_BIN()`/`G_OBJECT()` macros do in C).
@inline(__always)
func cast<T, U>(_ pointer: UnsafeMutablePointer<T>, to: U.Type = U.self) -> UnsafeMutablePointer<U> {
    UnsafeMutablePointer<U>(OpaquePointer(pointer))
}

/// Connects a C signal handler with a retained context object that is released when the handler goes away.
@discardableResult
func connectSignal<Context: AnyObject>(_ instance: UnsafeMutableRawPointer, _ signal: String, _ context: Context,
                                       _ handler: GCallback) -> gulong {
    let data = Unmanaged.passRetained(context).toOpaque()
    return g_signal_connect_data(instance, signal, handler, data, { data, _ in
        if let data { Unmanaged<AnyObject>.fromOpaque(data).release() }
    }, GConnectFlags(rawValue: 0))
}

/// Copies a GError's message and frees it.
func takeError(_ error: UnsafeMutablePointer<GError>?) -> String {
    guard let error else { return "unknown error" }
    defer { g_error_free(error) }
    return error.pointee.message.map { String(cString: $0) } ?? "unknown error"
}

/// Whether an element factory is installed (also the run-time check for hardware encoders).
public func elementExists(_ name: String) -> Bool {
    guard let factory = gst_element_factory_find(name) else { return false }
    gst_object_unref(UnsafeMutableRawPointer(factory))
    return true
}
