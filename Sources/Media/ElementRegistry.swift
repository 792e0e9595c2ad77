/// Which GStreamer elements exist. The device asks GStreamer's registry; tests pass a fixed set, which is how
/// the choices for a Pi 4 (with `v4l2h264enc`) or a Pi 5 (without) are checked on a machine that has neither.
public protocol ElementRegistry: Sendable {
    func has(_ element: String) -> Bool
}

/// GStreamer's own plugin registry (after `gst_init`).
public struct InstalledElements: ElementRegistry {
    public init() {}
    public func has(_ element: String) -> Bool { elementExists(element) }
}

/// A fixed list of elements, for tests and for describing a board that is not this machine.
public struct FixedElements: ElementRegistry {
    public var names: Set<String>
    public init(_ names: Set<String>) { self.names = names }
    public func has(_ element: String) -> Bool { names.contains(element) }
}
