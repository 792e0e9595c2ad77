#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A fresh directory under /tmp, or `$DISPLAY_TEST_OUTPUT/<name>` (kept) to look at the pictures.
struct ScratchDirectory: ~Copyable {
    let path: String
    private let keep: Bool

    init(_ name: String) throws {
        if let base = getenv("DISPLAY_TEST_OUTPUT").map({ String(cString: $0) }), !base.isEmpty {
            path = base + "/" + name
            keep = true
            mkdir(base, 0o755)
            mkdir(path, 0o755)
            return
        }
        var template = Array("/tmp/display-tests-\(name)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = try #require(made.map { String(cString: $0) }, "mkdtemp: \(String(cString: strerror(errno)))")
        keep = false
    }

    deinit {
        guard !keep, let dir = opendir(path) else { return }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { unlink(path + "/" + name) }
        }
        closedir(dir)
        rmdir(path)
    }
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
