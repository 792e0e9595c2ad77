/// The one error type of the Control module: a code to match on and a message to show as is.
public struct ControlError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The control socket could not be created, bound or listened on.
        case socket
        /// The control socket does not exist or nobody listens on it.
        case notRunning
        /// The peer closed the control connection.
        case connectionClosed
        /// No reply within the client's timeout.
        case timeout
        /// A request or reply that is not one line of JSON.
        case badMessage
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
