#if canImport(Glibc)
import Glibc
#endif

/// Files that must survive a power cut whole: written to a temporary file in the same directory, flushed
/// (`fsync`), renamed over the old one, and the directory flushed too, so after a crash the file holds either
/// the old content or the new, never an empty or half-written one.
public enum AtomicFile {
    public struct WriteError: Error, Equatable, CustomStringConvertible {
        public var path: String
        /// The call that failed: `open`, `write`, `fsync`, `rename`.
        public var operation: String
        public var errno: Int32

        public var description: String { "\(path): \(operation) failed: \(String(cString: strerror(errno)))" }
    }

    /// Replaces `path` with `bytes`, with `mode` (before the umask).
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(WriteError) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let temporary = "\(path).tmp-\(getpid())"
        func fail(_ operation: String) -> WriteError { WriteError(path: path, operation: operation, errno: Glibc.errno) }

        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw fail("open") }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0, Glibc.errno == EINTR { continue }
            guard count > 0 else {
                let error = fail("write")
                close(fd)
                unlink(temporary)
                throw error
            }
            written += count
        }
        guard fsync(fd) == 0 else {
            let error = fail("fsync")
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = fail("rename")
            unlink(temporary)
            throw error
        }
        // The rename itself lives in the directory: flush it, or a power cut may forget it.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else { throw fail("open directory") }
        defer { close(directoryFD) }
        guard fsync(directoryFD) == 0 else { throw fail("fsync directory") }
    }

    /// The whole file, or nil when it does not exist or cannot be read; files larger than `limit` are refused.
    public static func read(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, Glibc.errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            if bytes.count > limit { return nil }
        }
    }
}
