import Glibc

/// Scratch directories and small file helpers the test targets share (linked only into test targets).

public struct ScratchError: Error, CustomStringConvertible {
    public let description: String
}

/// A fresh empty directory `/tmp/<prefix>-XXXXXX`.
public func makeScratchDirectory(_ prefix: String) throws -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let path = mkdtemp(base) else { return nil }
        return String(cString: path)
    }
    guard let made else { throw ScratchError(description: "mkdtemp /tmp/\(prefix)-…: \(String(cString: strerror(errno)))") }
    return made
}

/// Runs `body` with a fresh directory under /tmp and removes it, with everything in it, afterwards.
public func withScratchDirectory<T>(_ prefix: String, _ body: (String) throws -> T) throws -> T {
    let directory = try makeScratchDirectory(prefix)
    defer { removeTree(directory) }
    return try body(directory)
}

/// `rm -r` without following symlinks; for scratch directories only.
public func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    guard (info.st_mode & S_IFMT) == S_IFDIR else {
        unlink(path)
        return
    }
    for name in directoryEntries(path) { removeTree(path + "/" + name) }
    rmdir(path)
}

/// The names in a directory, sorted, without "." and "..".
public func directoryEntries(_ directory: String) -> [String] {
    guard let dir = opendir(directory) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != ".", name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// Creates or truncates `path` with `bytes` (mode 0600).
public func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "open \(path)")
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// Appends `bytes` to an existing file.
public func appendFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_APPEND)
    precondition(fd >= 0, "open \(path)")
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// The whole file; empty when it cannot be read.
public func readFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { return bytes }
        bytes += chunk[0..<count]
    }
}
