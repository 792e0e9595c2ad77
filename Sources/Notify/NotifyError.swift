/// Why a notification did not get through, with a code and words for the log. Never carries the join link.
public struct NotifyError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The HTTP client could not be set up (a CA file that does not load).
        case setup
        /// No answer: DNS, connection, TLS verification, timeout.
        case transport
        /// The target answered with a status other than 2xx.
        case status
        /// The request was withdrawn (the room closed first).
        case cancelled
    }
    public var code: Code
    public var context: String
    /// The HTTP status for `.status`.
    public var status: Int?

    public init(_ code: Code, _ context: String, status: Int? = nil) {
        self.code = code
        self.context = context
        self.status = status
    }

    public var description: String { "\(code.rawValue): \(context)" }

    /// Worth trying again: the network, the server's own trouble (5xx), "too many" (429) and timeouts (408).
    /// Other 4xx answers mean the target is set up wrong, which retrying does not fix.
    public var isRetryable: Bool {
        switch code {
        case .transport: true
        case .status: status.map { $0 >= 500 || $0 == 408 || $0 == 429 } ?? true
        case .setup, .cancelled: false
        }
    }
}
