import Glibc
import Testing
import TestSupport
@testable import DoorCore

@Suite struct AtomicFileTests {
    @Test func writesReplacesAndLeavesNoTemporaryFile() throws {
        try withScratchDirectory("atomicfile") { directory in
            let path = directory + "/device-id"
            try AtomicFile.write(Array("first\n".utf8), to: path, mode: 0o640)
            #expect(AtomicFile.read(path) == Array("first\n".utf8))
            try AtomicFile.write(Array("second\n".utf8), to: path, mode: 0o640)
            #expect(AtomicFile.read(path) == Array("second\n".utf8))
            #expect(directoryEntries(directory) == ["device-id"])
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o707 == 0o600)  // 0640 less the umask: the owner's, never the world's
        }
    }

    @Test func aFailedWriteKeepsTheOldFile() throws {
        try withScratchDirectory("atomicfile") { directory in
            let path = directory + "/state"
            try AtomicFile.write(Array("old".utf8), to: path)
            // Renaming a file over a directory fails: the old content must stay, and no temporary is left.
            let blocked = directory + "/blocked"
            #expect(mkdir(blocked, 0o755) == 0)
            #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write(Array("new".utf8), to: blocked) }
            #expect(AtomicFile.read(path) == Array("old".utf8))
            #expect(directoryEntries(directory) == ["blocked", "state"])
            rmdir(blocked)
        }
    }

    @Test func aMissingDirectoryIsAnOpenError() throws {
        try withScratchDirectory("atomicfile") { directory in
            do {
                try AtomicFile.write([1], to: directory + "/missing/file")
                Issue.record("wrote into a missing directory")
            } catch let error as AtomicFile.WriteError {
                #expect(error.operation == "open" && error.errno == ENOENT)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
