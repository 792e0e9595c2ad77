/// The one error type of the Buttons module: a code to match on and a message to show as is.
public struct ButtonsError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No GPIO chip with the configured label or name.
        case chipNotFound
        /// The line offset is not on the chip, or the line cannot be requested (busy, no permission, no bias).
        case lineUnavailable
        /// The terminal could not be switched to raw mode.
        case terminal
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
