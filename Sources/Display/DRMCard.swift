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
    /// Every mode the connector offers, in the kernel's order (preferred first on most drivers).
    public let modes: [DRMMode]

    public init(id: UInt32, name: String, connected: Bool, preferredMode: DRMMode?, modes: [DRMMode] = []) {
        self.id = id
        self.name = name
        self.connected = connected
        self.preferredMode = preferredMode
        self.modes = modes.isEmpty ? preferredMode.map { [$0] } ?? [] : modes
    }

    /// The mode of exactly `width`×`height` (the preferred one if it is that size, else the fastest refresh).
    public func mode(width: Int, height: Int) -> DRMMode? {
        if let preferredMode, preferredMode.width == width, preferredMode.height == height { return preferredMode }
        return modes.filter { $0.width == width && $0.height == height }.max { $0.refreshHz < $1.refreshHz }
    }
}

/// A display mode (`drmModeModeInfo`).
public struct DRMMode: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let refreshHz: Int
    public let name: String
}
