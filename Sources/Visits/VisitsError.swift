#if canImport(Glibc)
import Glibc
#endif

/// Everything the visit log refuses or fails at, with a code and the words for the log or the asking browser.
public struct VisitsError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No visit has this id (deleted meanwhile, pruned, or never existed).
        case notFound
        /// The id is not one the log hands out (12 lowercase hex digits); nothing was looked up.
        case badID
        /// The visit's clip is being written; it can be deleted once the recording stops.
        case busy
        /// The state directory could not be created, written or flushed (disk full, read-only card).
        case storage
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    static func storage(_ path: String, _ operation: String, _ errno: Int32) -> VisitsError {
        VisitsError(.storage, "\(path): \(operation) failed: \(String(cString: strerror(errno)))")
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
