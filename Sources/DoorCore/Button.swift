/// The four buttons of the door unit.
public enum Button: String, Sendable, CaseIterable, Codable {
    case doorbell, answer, decline, mute
}

/// A debounced press as the core sees it, from GPIO, the terminal or the control socket.
public struct ButtonPress: Sendable, Equatable {
    public var button: Button
    public var long: Bool
    public init(_ button: Button, long: Bool = false) { self.button = button; self.long = long }
}
