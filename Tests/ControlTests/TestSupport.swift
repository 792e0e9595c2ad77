import Glibc
import DoorCore
import MainLoop
import Synchronization

/// Collects presses delivered on the GLib loop for the test thread to look at.
final class PressRecorder: Sendable {
    private let presses = Mutex<[ButtonPress]>([])
    func append(_ press: ButtonPress) { presses.withLock { $0.append(press) } }
    var all: [ButtonPress] { presses.withLock { $0 } }
}

/// Polls `condition` on the GLib loop until it holds or `timeout` passes.
func eventually(within timeout: Duration = .seconds(5), _ condition: @escaping @GLibActor () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

/// A fresh empty directory under /tmp.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/control-test-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        preconditionFailure("mkdtemp failed")
    }
    return String(cString: made)
}

func removeTree(_ path: String) {
    guard let dir = opendir(path) else { unlink(path); return }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name == "." || name == ".." { continue }
        removeTree("\(path)/\(name)")
    }
    closedir(dir)
    rmdir(path)
}
