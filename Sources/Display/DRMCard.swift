/// A KMS-capable DRM device (`/dev/dri/cardN`) as `DRMProbe` found it.
public struct DRMCard: Sendable, Equatable {
    public let path: String
    /// The kernel driver (`drmGetVersion`), e.g. `vc4` on a Raspberry Pi.
    public let driver: String
    public let connectors: [DRMConnector]

    /// The first connector with something plugged in: where the screen goes.
    public var firstConnected: DRMConnector? { connectors.first { $0.connected } }
}

/// One output of a card (`drmModeConnector`).
public struct DRMConnector: Sendable, Equatable {
    public let id: UInt32
    /// The name the kernel and kmssink use, e.g. `HDMI-A-1` or `DSI-1` (type name + type index).
    public let name: String
    public let connected: Bool
    /// The mode the panel asks for (`DRM_MODE_TYPE_PREFERRED`), else its first mode; nil when none is known.
    public let preferredMode: DRMMode?
}

/// A display mode (`drmModeModeInfo`).
public struct DRMMode: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let refreshHz: Int
    public let name: String
}
