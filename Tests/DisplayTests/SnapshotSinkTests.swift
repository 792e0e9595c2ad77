@testable import Display
import DoorCore
import Dispatch
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SnapshotSinkTests {
    @Test func latestIsTheSecondOfTwoShowsAndBothAreNumbered() throws {
        try inScratchDirectory("sink-two") { dir in
            let renderer = try ScreenRenderer()
            let sink = try SnapshotSink(directory: dir)
            let first = Screen.idle(doorName: "Front door")
            let second = Screen.ended(reason: "Call ended")
            try sink.show(renderer.render(first), screen: first)
            try sink.show(renderer.render(second), screen: second)
            try sink.flush()

            let one = try #require(readBytes(dir + "/screen-0001-idle.png"))
            let two = try #require(readBytes(dir + "/screen-0002-ended.png"))
            let latest = try #require(readBytes(sink.latestPath))
            #expect(sink.latestPath == dir + "/latest.png")
            #expect(sink.count == 2)
            #expect(Array(one.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
            #expect(latest == two)
            #expect(latest != one)
            #expect(!fileExists(dir + "/.latest.png.tmp"))
        }
    }

    /// `show` hands the frame over and returns: with the writer thread held, nothing is on disk yet, and the
    /// caller (the loop) went on; once let go, the file is there. Prints what `show` and the write cost.
    @Test func showReturnsBeforeThePNGIsWritten() throws {
        try inScratchDirectory("sink-offloop") { dir in
            let frame = try ScreenRenderer(width: 1280, height: 720)
                .render(.room(code: "12345", link: "https://door.example/#room=12345", secondsLeft: 60))
            let sink = try SnapshotSink(directory: dir)
            let release = DispatchSemaphore(value: 0)
            sink.writer.hold { release.wait() }
            let started = monotonicMicros()
            try sink.show(frame, screen: .idle(doorName: "x"))
            let showMicros = monotonicMicros() - started
            #expect(sink.count == 1)
            #expect(!fileExists(sink.latestPath), "the PNG was written by show itself")
            release.signal()
            let writeStarted = monotonicMicros()
            try sink.flush()
            let writeMicros = monotonicMicros() - writeStarted
            let bytes = try #require(readBytes(sink.latestPath))
            #expect(Array(bytes.prefix(4)) == [0x89, 0x50, 0x4E, 0x47], "not a PNG")
            print("snapshot 1280x720: show returned in \(Double(showMicros) / 1000) ms, "
                  + "the PNG was on disk \(Double(writeMicros) / 1000) ms later")
        }
    }

    @Test func aWriteThatFailsIsThrownByFlush() throws {
        try inScratchDirectory("sink-gone") { dir in
            let sink = try SnapshotSink(directory: dir + "/sub")
            rmdir(dir + "/sub")
            try sink.show(ScreenRenderer(width: 320, height: 240).render(.idle(doorName: "x")), screen: .idle(doorName: "x"))
            #expect { try sink.flush() } throws: { error in "\(error)".contains(dir + "/sub") }
            try sink.flush()  // reported once
        }
    }

    @Test func createsMissingDirectories() throws {
        try inScratchDirectory("sink-nested") { dir in
            let nested = dir + "/a/b"
            let sink = try SnapshotSink(directory: nested)
            try sink.show(ScreenRenderer(width: 320, height: 240).render(.idle(doorName: "x")), screen: .idle(doorName: "x"))
            try sink.flush()
            #expect(fileExists(nested + "/latest.png"))
        }
    }

    @Test func directoryBelowAFileFailsWithSnapshotDirectory() throws {
        try inScratchDirectory("sink-bad") { dir in
            let file = dir + "/file"
            let fd = open(file, O_CREAT | O_WRONLY, 0o644)
            try #require(fd >= 0)
            close(fd)
            do {
                _ = try SnapshotSink(directory: file + "/sub")
                Issue.record("a directory below a regular file was accepted")
            } catch let error as DisplayError {
                #expect(error.code == "snapshot-directory")
                #expect(error.description.contains(file + "/sub"), "\(error)")
            }
        }
    }

    @Test func frameTooShortForItsSizeThrowsBadFrame() throws {
        try inScratchDirectory("sink-short") { dir in
            let sink = try SnapshotSink(directory: dir)
            let frame = Frame(width: 10, height: 10, stride: 40, pixels: [UInt8](repeating: 0, count: 100))
            #expect { try sink.show(frame, screen: .idle(doorName: "x")) } throws: { ($0 as? DisplayError)?.code == "bad-frame" }
            #expect(sink.count == 0)
        }
    }
}
