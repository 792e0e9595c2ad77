#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// Runs `body` with a fresh directory under /tmp and removes it afterwards; with `$DISPLAY_TEST_OUTPUT` set,
/// uses and keeps `$DISPLAY_TEST_OUTPUT/<name>` so the pictures can be looked at.
func inScratchDirectory(_ name: String, _ body: (String) throws -> Void) throws {
    if let base = getenv("DISPLAY_TEST_OUTPUT").map({ String(cString: $0) }), !base.isEmpty {
        mkdir(base, 0o755)
        mkdir(base + "/" + name, 0o755)
        return try body(base + "/" + name)
    }
    var template = Array("/tmp/display-tests-\(name)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    let path = try #require(made.map { String(cString: $0) }, "mkdtemp: \(String(cString: strerror(errno)))")
    defer { removeTree(path) }
    try body(path)
}


/// The whole file, or nil when it cannot be read.
func readBytes(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n == 0 { break }
        bytes += buffer[0..<n]
    }
    return bytes
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

let zbarimg = "/usr/bin/zbarimg"

/// What `zbarimg --quiet --raw` reads from the image: one line per symbol found.
func decodeQR(_ pngPath: String) throws -> String {
    try #require(access(zbarimg, X_OK) == 0, "\(zbarimg) is missing: install zbar-tools (apt install zbar-tools)")
    // stderr aside: zbarimg also complains there about a missing D-Bus, which is no decoding result.
    let errors = pngPath + ".zbarimg-stderr"
    defer { unlink(errors) }
    guard let pipe = popen("\(zbarimg) --quiet --raw '\(pngPath)' 2>'\(errors)'", "r") else {
        Issue.record("popen zbarimg: \(String(cString: strerror(errno)))")
        return ""
    }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, pipe)
        if n == 0 { break }
        output += buffer[0..<n]
    }
    let status = pclose(pipe)
    let text = String(decoding: output, as: UTF8.self)
    let diagnostics = readBytes(errors).map { String(decoding: $0, as: UTF8.self) } ?? ""
    #expect(status == 0, "zbarimg found no QR code in \(pngPath) (status \(status)): \(diagnostics)")
    return text.hasSuffix("\n") ? String(text.dropLast()) : text
}
