import Glibc
import DoorCore

/// The config file on disk (`/etc/intercom/intercom.yaml` on a device): read, parsed as YAML, typed and
/// checked as a `Configuration`. Every failure is a `ConfigurationError` that names the file, line and key.
public enum ConfigFile {
    /// Larger than any sensible config; a bigger file is a mistake (a log or a binary given by accident).
    static let maximumBytes = 256 * 1024

    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        let text: String
        do { text = try read(path) } catch { throw error.in(file: path) }
        return try parse(text, file: path)
    }

    /// Parses config text; `file` only names it in errors.
    public static func parse(_ text: String, file: String = "config") throws(ConfigurationError) -> Configuration {
        do {
            return try Configuration(document: try YAMLDocument.parse(text))
        } catch {
            throw error.in(file: file)
        }
    }

    private static func read(_ path: String) throws(ConfigurationError) -> String {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; then only a regular file is read.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            throw ConfigurationError(.unreadable, key: "", line: nil, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ConfigurationError(.unreadable, key: "", line: nil, "not a regular file (a FIFO, device or directory)")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ConfigurationError(.unreadable, key: "", line: nil, "cannot read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= maximumBytes else {
                throw ConfigurationError(.unreadable, key: "", line: nil, "larger than \(maximumBytes / 1024) KiB; is this the config file?")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError(.unreadable, key: "", line: nil, "not UTF-8 text")
        }
        return text
    }
}

extension ConfigurationError {
    public func `in`(file: String) -> ConfigurationError {
        var copy = self
        copy.file = file
        return copy
    }
}
