import CGStreamer

/// Which canceller the installed `webrtcdsp` is built on. Debian 12's links webrtc-audio-processing 0.3 (the old
/// AEC, with a delay-agnostic mode); Debian 13's links 1.x, whose AEC3 cancels a voice but leaves a steady far
/// end (a hum, a continuous tone) alone — docs/trixie.md has the measurements. The 1.x element still has the old
/// `delay-agnostic` property but marks it deprecated (`G_PARAM_DEPRECATED`), which is how this tells them apart.
public enum EchoCanceller {
    public enum Kind: Sendable, Equatable {
        /// webrtcdsp is not installed.
        case none
        /// webrtc-audio-processing 0.x.
        case legacy
        /// webrtc-audio-processing 1.x (AEC3).
        case aec3
    }

    /// Looks the element's class up in the registry (after `gst_init`); creates no element.
    public static func installed() -> Kind {
        guard let found = gst_element_factory_find("webrtcdsp") else { return .none }
        defer { gst_object_unref(UnsafeMutableRawPointer(found)) }
        // The registry may know the element only by name; loading the plugin registers its GType.
        guard let loaded = gst_plugin_feature_load(found) else { return .none }
        defer { gst_object_unref(UnsafeMutableRawPointer(loaded)) }
        let type = gst_element_factory_get_element_type(loaded)
        guard type != 0, let klass = g_type_class_ref(type) else { return .none }
        defer { g_type_class_unref(klass) }
        guard let property = g_object_class_find_property(klass.assumingMemoryBound(to: GObjectClass.self),
                                                          "delay-agnostic") else { return .aec3 }
        return property.pointee.flags.rawValue & G_PARAM_DEPRECATED.rawValue != 0 ? .aec3 : .legacy
    }
}
