import CGStreamer
import Glibc
import Synchronization
import Testing
import TestSupport
@testable import Media

/// The clip recorder on a real pipeline: videotestsrc → x264enc → tee → fakesink, the recorder on the tee.
/// The files are checked the way a user's player would see them: gst-discoverer-1.0 demuxes them, and a
/// decodebin pipeline counts the pictures it decodes.
@Suite(.serialized) struct ClipRecorderTests {
    init() { gst_init(nil, nil) }

    /// A picture with periodic keyframes only every `keyframeInterval` frames (far apart, so a clip that starts
    /// at once shows the recorder's own keyframe request worked).
    static func source(keyframeInterval: Int) -> String {
        "videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1"
            + " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=\(keyframeInterval) bitrate=1000"
            + " ! video/x-h264,profile=constrained-baseline ! tee name=enctee"
            + " ! queue max-size-buffers=1 leaky=downstream ! fakesink name=main sync=false"
    }

    /// Matroska and fragmented MP4 (what the door records: iOS Safari plays it) alike.
    @Test(arguments: ["mkv", "mp4"]) func recordsAboutNSecondsFromAKeyframeItAskedFor(container: String) async throws {
        try await withScratch { directory in
            // One keyframe at the start and none for 100000 frames: the clip can only start on a requested one.
            let live = try LivePipeline(Self.source(keyframeInterval: 100_000))
            #expect(await live.waitForFrames(at: "main", atLeast: 30))
            let path = directory + "/clip." + container
            let recorder = ClipRecorder(pipeline: live.pipeline, tee: try #require(live.element("enctee")), path: path,
                                        maxSeconds: 3)
            try recorder.start()
            #expect(await detached(recorder, timeoutMillis: 60_000))
            #expect(recorder.phase == .detached)
            #expect(live.errors().isEmpty)

            let summary = recorder.summary
            print("clip: \(summary.frames) frames, \(summary.seconds) s, \(summary.bytes) bytes")
            let discovered = try #require(discover(path))
            let decoded = decodedFrames(path)
            print("discoverer: \(discovered.seconds) s, \(discovered.video); decoded \(decoded) frames")
            #expect(discovered.video.contains("H.264"))
            #expect(abs(discovered.seconds - 3) < 0.5, "duration \(discovered.seconds) s")
            #expect(decoded >= 30)

            // The main branch keeps flowing after the branch is gone.
            #expect(await live.waitForFrames(at: "main", atLeast: live.frames("main") + 30))
            #expect(live.errors().isEmpty)
        }
    }

    @Test func stopsOnDemandAndLeavesTheTeeAsItWas() async throws {
        try await withScratch { directory in
            let live = try LivePipeline(Self.source(keyframeInterval: 30))
            #expect(await live.waitForFrames(at: "main", atLeast: 10))
            let tee = try #require(live.element("enctee"))
            let path = directory + "/clip.mkv"
            let recorder = ClipRecorder(pipeline: live.pipeline, tee: tee, path: path, maxSeconds: nil)
            try recorder.start()
            #expect(tee.pointee.numsrcpads == 2)
            let deadline = monotonicSeconds() + 60
            while recorder.summary.frames < 45, monotonicSeconds() < deadline { await pause() }
            recorder.stop()
            #expect(await detached(recorder, timeoutMillis: 30_000))
            // The tee's pad for the clip is released: only the main branch remains.
            #expect(tee.pointee.numsrcpads == 1)
            let summary = recorder.summary
            #expect(summary.frames >= 45)
            #expect(decodedFrames(path) >= 30)
            #expect(try #require(discover(path)).seconds > 1)
            #expect(await live.waitForFrames(at: "main", atLeast: live.frames("main") + 30))
            #expect(live.errors().isEmpty)
            // Stopping again does nothing.
            recorder.stop()
            #expect(recorder.phase == .detached)
        }
    }

    @Test(arguments: ["mkv", "mp4"]) func aRecordingCutOffBySIGKILLStillPlays(container: String) async throws {
        try await withScratch { directory in
            let path = directory + "/killed." + container
            // The recorder's own branch behind the same encoder, in a process of its own that we kill mid-write.
            let description = Self.source(keyframeInterval: 30) + " enctee. ! " + ClipRecorder.branchDescription(forPath: path)
                + " location=" + path
            let pid = try spawn(["gst-launch-1.0", "-q"] + description.split(separator: " ").map(String.init))
            let deadline = monotonicSeconds() + 60
            while (fileBytes(path) ?? 0) < 200_000, monotonicSeconds() < deadline { await pause() }
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let size = try #require(fileBytes(path))
            #expect(size >= 200_000)
            let discovered = try #require(discover(path))
            print("killed clip: \(size) bytes, \(discovered.seconds) s")
            #expect(discovered.video.contains("H.264"))
            #expect(discovered.seconds > 0.5)
            #expect(decodedFrames(path) > 15)
        }
    }

    /// `visits.record_calls`: the caller's audio (here a tone) goes into the same MP4 as Opus, in step with the video.
    @Test func recordsTheAudioTeeAsOpusNextToTheVideo() async throws {
        try await withScratch { directory in
            let live = try LivePipeline(Self.source(keyframeInterval: 100_000) + "  " + Self.audioSource)
            #expect(await live.waitForFrames(at: "main", atLeast: 30))
            let path = directory + "/call.mp4"
            let recorder = ClipRecorder(pipeline: live.pipeline, tee: try #require(live.element("enctee")), path: path,
                                        maxSeconds: 3, audioTee: try #require(live.element("atee")))
            try recorder.start()
            #expect(await detached(recorder, timeoutMillis: 60_000))
            #expect(live.errors().isEmpty)
            let discovered = try #require(discover(path))
            print("clip with audio: \(discovered.seconds) s, \(discovered.video), \(discovered.audio)")
            #expect(discovered.audio.contains("Opus"), "\(discovered.audio)")
            #expect(abs(discovered.seconds - 3) < 0.5, "duration \(discovered.seconds) s")
            #expect(decodedFrames(path) >= 30)
            #expect(try #require(live.element("atee")).pointee.numsrcpads == 1)
            #expect(await live.waitForFrames(at: "main", atLeast: live.frames("main") + 30))
        }
    }

    static let audioSource = "audiotestsrc is-live=true wave=sine freq=440 ! audio/x-raw,rate=48000,channels=1"
        + " ! tee name=atee ! queue max-size-buffers=2 leaky=downstream ! fakesink sync=false"

    /// A visit declined at once: the stop may come before the first keyframe (nothing to write, no EOS through
    /// an empty muxer) or just after it; either way the branch goes and the pipeline flows on.
    @Test func aStopRightAfterTheStartStillDetaches() async throws {
        try await withScratch { directory in
            let live = try LivePipeline(Self.source(keyframeInterval: 100_000) + "  " + Self.audioSource)
            #expect(await live.waitForFrames(at: "main", atLeast: 10))
            let tee = try #require(live.element("enctee"))
            for round in 0..<4 {
                // The last two with an audio side too, which must be taken down as well.
                let recorder = ClipRecorder(pipeline: live.pipeline, tee: tee, path: directory + "/quick\(round).mp4",
                                            maxSeconds: 5, audioTee: round >= 2 ? live.element("atee") : nil)
                try recorder.start()
                recorder.stop()
                #expect(await detached(recorder, timeoutMillis: 30_000))
                #expect(recorder.phase == .detached)
                #expect(tee.pointee.numsrcpads == 1)
            }
            #expect(await live.waitForFrames(at: "main", atLeast: live.frames("main") + 30))
            #expect(live.errors().isEmpty)
        }
    }

    /// A full card: the clip's writes fail (/dev/full says ENOSPC). The main branch must keep flowing, the error
    /// is the clip's (`contains`), and stop() still removes the branch.
    @Test func aFullDiskFailsTheClipAloneAndTheMainBranchFlowsOn() async throws {
        let live = try LivePipeline(Self.source(keyframeInterval: 30))
        #expect(await live.waitForFrames(at: "main", atLeast: 10))
        let tee = try #require(live.element("enctee"))
        let recorder = ClipRecorder(pipeline: live.pipeline, tee: tee, path: "/dev/full", maxSeconds: nil)
        try recorder.start()
        let before = live.frames("main")
        #expect(await live.waitForFrames(at: "main", atLeast: before + 180))
        let errors = live.errorSources()
        print("full disk: \(errors.map(\.text)), \(recorder.summary.frames) frames into the branch, \(recorder.phase)")
        #expect(!errors.isEmpty && errors.allSatisfy { ClipRecorder.isInsideClip($0.source) }, "\(errors.map(\.text))")
        recorder.stop()
        #expect(await detached(recorder, timeoutMillis: 30_000))
        #expect(tee.pointee.numsrcpads == 1)
        #expect(await live.waitForFrames(at: "main", atLeast: live.frames("main") + 30))
    }

    @Test func aClipThatCannotBeCreatedIsRefusedAndThePipelineUntouched() async throws {
        let live = try LivePipeline(Self.source(keyframeInterval: 30))
        #expect(await live.waitForFrames(at: "main", atLeast: 5))
        let tee = try #require(live.element("enctee"))
        let recorder = ClipRecorder(pipeline: live.pipeline, tee: tee, path: "/nonexistent-dir/clip.mkv", maxSeconds: 1)
        #expect(throws: MediaError.self) { try recorder.start() }
        #expect(tee.pointee.numsrcpads == 1)
        #expect(await live.waitForFrames(at: "main", atLeast: live.frames("main") + 10))
        #expect(live.errors().isEmpty)
    }
}

/// A pipeline playing in the background while the test attaches and detaches things; its bus is read at the end.
private final class LivePipeline {
    let pipeline: UnsafeMutablePointer<GstElement>
    private var counts: [String: BufferCount] = [:]

    init(_ description: String) throws {
        var error: UnsafeMutablePointer<GError>?
        guard let element = gst_parse_launch(description, &error), error == nil else {
            throw MediaError(.pipelineFailed, takeError(error))
        }
        pipeline = element
        for name in ["main"] { counts[name] = countBuffers(name) }
        gst_element_set_state(pipeline, GST_STATE_PLAYING)
    }

    deinit {
        gst_element_set_state(pipeline, GST_STATE_NULL)
        gst_object_unref(UnsafeMutableRawPointer(pipeline))
    }

    /// Borrowed: the pipeline keeps it alive.
    func element(_ name: String) -> UnsafeMutablePointer<GstElement>? {
        guard let element = gst_bin_get_by_name(UnsafeMutablePointer<GstBin>(OpaquePointer(pipeline)), name) else { return nil }
        gst_object_unref(UnsafeMutableRawPointer(element))
        return element
    }

    func frames(_ name: String) -> Int { counts[name]?.value.load(ordering: .relaxed) ?? 0 }

    /// Polls (deadline 60 s, generous for a loaded machine) until `name` has seen `count` buffers.
    func waitForFrames(at name: String, atLeast count: Int) async -> Bool {
        let deadline = monotonicSeconds() + 60
        while frames(name) < count {
            if monotonicSeconds() > deadline { return false }
            await pause()
        }
        return true
    }

    /// Error messages posted so far with their sources (a reference each, held by the pipeline too).
    func errorSources() -> [(text: String, source: UnsafeMutablePointer<GstObject>)] {
        let bus = gst_element_get_bus(pipeline)
        defer { gst_object_unref(UnsafeMutableRawPointer(bus)) }
        var errors: [(text: String, source: UnsafeMutablePointer<GstObject>)] = []
        while let message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR) {
            var error: UnsafeMutablePointer<GError>?
            gst_message_parse_error(message, &error, nil)
            if let source = message.pointee.src { errors.append((takeError(error), source)) }
            gst_message_unref(message)
        }
        return errors
    }

    /// Error messages posted so far.
    func errors() -> [String] {
        let bus = gst_element_get_bus(pipeline)
        defer { gst_object_unref(UnsafeMutableRawPointer(bus)) }
        var errors: [String] = []
        while let message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR) {
            var error: UnsafeMutablePointer<GError>?
            gst_message_parse_error(message, &error, nil)
            errors.append(takeError(error))
            gst_message_unref(message)
        }
        return errors
    }

    private func countBuffers(_ name: String) -> BufferCount {
        let count = BufferCount()
        guard let element = element(name), let pad = gst_element_get_static_pad(element, "sink") else { return count }
        defer { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, { _, _, data in
            if let data { Unmanaged<BufferCount>.fromOpaque(data).takeUnretainedValue().value.add(1, ordering: .relaxed) }
            return GST_PAD_PROBE_OK
        }, Unmanaged.passRetained(count).toOpaque(), { data in if let data { Unmanaged<BufferCount>.fromOpaque(data).release() } })
        return count
    }
}

/// Runs `body` with a fresh scratch directory, removed afterwards. The tests are async and wait with
/// `Task.sleep`, never by blocking a thread: Swift's cooperative pool has one thread per core, and blocking it
/// for the length of these tests starved other suites' async tests running alongside (they timed out).
private func withScratch(_ body: (String) async throws -> Void) async throws {
    let directory = try makeScratchDirectory("clips-test")
    defer { removeTree(directory) }
    try await body(directory)
}

private func pause() async { try? await Task.sleep(for: .milliseconds(20)) }

/// Polls until the recorder's branch is gone; false after `timeoutMillis`.
private func detached(_ recorder: ClipRecorder, timeoutMillis: Int) async -> Bool {
    let deadline = monotonicSeconds() + Double(timeoutMillis) / 1000
    while recorder.phase != .detached, recorder.phase != .idle {
        if monotonicSeconds() > deadline { return false }
        await pause()
    }
    return true
}

private func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

private func fileBytes(_ path: String) -> Int64? {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : nil
}

/// What gst-discoverer-1.0 says about a file: its duration and its video stream's description.
private func discover(_ path: String) -> (seconds: Double, video: String, audio: String)? {
    guard let pipe = popen("gst-discoverer-1.0 '\(path)' 2>&1", "r") else { return nil }
    var output = ""
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), pipe) != nil {
        output += String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    guard pclose(pipe) == 0 else { return nil }
    var seconds: Double?
    var video = ""
    var audio = ""
    for raw in output.split(separator: "\n") {
        let text = raw.trimmingPrefix(while: { $0 == " " })
        if text.hasPrefix("Duration: ") {
            // H:MM:SS.nnnnnnnnn
            let parts = text.dropFirst(10).split(separator: ":")
            if parts.count == 3, let h = Double(parts[0]), let m = Double(parts[1]), let s = Double(parts[2]) {
                seconds = h * 3600 + m * 60 + s
            }
        } else if text.hasPrefix("video #") {
            video = String(text)
        } else if text.hasPrefix("audio #") {
            audio = String(text)
        }
    }
    return seconds.map { ($0, video, audio) }
}

/// Pictures decoded from the file by whatever decoder decodebin picks.
private func decodedFrames(_ path: String) -> Int {
    guard let run = try? PipelineRun("filesrc location=\(path) ! decodebin ! video/x-raw ! fakesink name=out") else { return 0 }
    let frames = run.countBuffers("out")
    let messages = run.untilEOS(seconds: 60)
    if !messages.errors.isEmpty { print("decoding \(path): \(messages.errors)") }
    return frames.value.load(ordering: .relaxed)
}

private func spawn(_ arguments: [String]) throws -> pid_t {
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let result = posix_spawnp(&pid, arguments[0], nil, nil, &argv, environ)
    guard result == 0 else { throw MediaError(.pipelineFailed, "cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
    return pid
}

