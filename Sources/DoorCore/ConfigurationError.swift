/// Why a config file was refused: the key (dotted path, `gpio.buttons.doorbell.line`), the line it is on,
/// and what to change. Printed as one line, `FILE:LINE: KEY: MESSAGE`; the process then exits with 78
/// (EX_CONFIG), which the service unit does not restart.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The file cannot be read.
        case unreadable
        /// Not valid YAML.
        case syntax
        /// A key the config does not have (often a typo), or a key given twice.
        case unknownKey
        /// A list where a number belongs, text where a yes/no belongs, and so on.
        case wrongType
        /// The right type but a value that cannot work (out of range, not a URL, two buttons on one line).
        case badValue
        /// The value is fine on paper but this machine cannot do it (no such GPIO line, encoder missing).
        case hardware
    }

    public var code: Code
    /// Dotted key path; empty for errors about the whole file.
    public var key: String
    public var line: Int?
    public var message: String
    /// Set by the file reader once it knows the path.
    public var file: String?

    public init(_ code: Code, key: String, line: Int?, _ message: String, file: String? = nil) {
        self.code = code
        self.key = key
        self.line = line
        self.message = message
        self.file = file
    }

    public var description: String {
        var where_ = file ?? "config"
        if let line { where_ += ":\(line)" }
        return key.isEmpty ? "\(where_): \(message)" : "\(where_): \(key): \(message)"
    }

    /// The exit status for a bad configuration (`EX_CONFIG` from sysexits.h).
    public static let exitStatus: Int32 = 78
}
