import Control
import DoorCore
#if canImport(Glibc)
import Glibc
#endif
import MainLoop
import Media
import Visits

/// Turns the door's rooms into visits (docs/visits.md): a room opening is a ring, written to the `VisitLog` at
/// once; the room closing ends the visit as answered (by whom), declined or missed. While the room waits for
/// an answer its warm pipeline records a clip from the door's own encoded stream (`MediaEngine.startClip`),
/// `visits.clip_seconds` long, kept for every visit; with `visits.record_calls` it runs on through an answered
/// call, up to `visits.call_max_seconds`.
///
/// The device calls in from small hooks (Device+Visits.swift); nothing here can stop the door: a log that
/// cannot be written is reported and the visit goes unlogged.
@GLibActor
final class VisitKeeper {
    private(set) var log: VisitLog
    var settings: VisitSettings { log.settings }
    /// The visit of the open room.
    private(set) var current: String?
    private var answeredBy: Visit.Answerer?
    private var wasDeclined = false
    private var recorder: (id: String, clip: ClipRecorder)?
    /// Gives up on a recorder whose branch never reports it is gone (its pipeline was stopped under it).
    private var detachTimer: GLibTimer?
    /// Where the clip is recorded, to let its warm pipeline idle again when the clip ends.
    private weak var media: (any MediaSessions)?
    /// `visit` and `visit-clip` events for the control socket.
    var onEvent: ((ControlEvent) -> Void)?

    /// Paired browsers' `visits` data links, by connectionId (Device+Visits.swift); `pairing` once proved.
    var links: [String: (link: DataLink, pairing: String?, timer: GLibTimer?)] = [:]
    /// How many visits links may be open at once, and how long one may wait for its hello.
    static let maxLinks = 8
    static let helloTimeoutMillis: UInt32 = 10_000
    /// Clip bytes per `clip` reply: base64 in a JSON message must stay under the data links' 16 300 bytes.
    static let clipChunkBytes = 11 * 1024

    /// How long closing a room waits for its clip to write its end (the loop is held that long at most).
    static let closeWaitMillis = 500
    /// How long a stopped recorder may take to write its end before the clip is taken as it is.
    static let detachGraceMillis: UInt32 = 5_000

    /// Nil when visits are off, or the state directory cannot hold them (logged).
    init?(stateDirectory: String, settings: VisitSettings) {
        guard settings.enabled else { return nil }
        do {
            log = try VisitLog(stateDirectory: stateDirectory, settings: settings)
        } catch {
            Log.error("visits", "no visits are kept: \(error)")
            return nil
        }
        do { report(try log.prune()) } catch { Log.warning("visits", "pruning: \(error)") }
        Log.info("visits", "\(log.visits.count) visit(s) in \(log.directory)")
    }

    // MARK: - The room's events

    /// A room opened (the bell rang): the visit is written before anything else happens.
    func rang() {
        if current != nil { roomClosed() }
        answeredBy = nil
        wasDeclined = false
        do {
            let visit = try log.ring()
            current = visit.id
            onEvent?(.visit(id: visit.id, state: "ringing", durationMillis: nil))
        } catch {
            Log.warning("visits", "this ring is not logged: \(error)")
        }
    }

    /// The room's warm pipeline runs: record the clip from it.
    func roomWarm(media: any MediaSessions) {
        guard let id = current, recorder == nil, settings.clipSeconds > 0, log.recordingID == nil else { return }
        let seconds = Double(settings.recordCalls ? max(settings.clipSeconds, settings.callMaxSeconds) : settings.clipSeconds)
        do {
            report(try log.prune())
            let path = try log.startClip(for: id, fileExtension: "mp4")
            let clip: ClipRecorder?
            do {
                clip = try media.startClip(path: path, maxSeconds: seconds, withAudio: settings.recordCalls) { summary in
                    GLibLoop.shared.invoke {
                        GLibActor.assumeIsolated { [weak self] in self?.clipDetached(id, summary) }
                    }
                }
            } catch {
                Log.warning("visits", "no clip for visit \(id): \(error)")
                clip = nil
            }
            guard let clip else {
                log.finishClip()
                try log.removeClip(of: id)
                return
            }
            recorder = (id, clip)
            self.media = media
            onEvent?(.visitClip(id: id, state: "recording", frames: nil, bytes: nil))
        } catch {
            Log.warning("visits", "no clip for visit \(id): \(error)")
        }
    }

    /// The room's call was let in. Without `record_calls` the clip ends here: it shows the ring, not the talk.
    func answered(by answerer: Visit.Answerer) {
        guard current != nil, answeredBy == nil else { return }
        answeredBy = answerer
        if !settings.recordCalls { stopRecording() }
    }

    /// DECLINE turned a caller away: unless someone is let in after all, the visit was declined.
    func declined() {
        if current != nil { wasDeclined = true }
    }

    /// The room closed: the visit ends, and its recording with it. The room's pipeline is stopped right after
    /// this, so the clip gets a moment (usually a few tens of milliseconds) to write its end first; without it
    /// the file still plays, but its header keeps the length of its first fragment.
    func roomClosed() {
        if let (_, clip) = recorder {
            clip.stop()
            if !clip.waitUntilDetached(timeoutMillis: Self.closeWaitMillis) {
                Log.info("visits", "the clip did not finish within \(Self.closeWaitMillis) ms of the room closing")
            }
        }
        stopRecording()
        guard let id = current else { return }
        current = nil
        let outcome: Visit.Outcome = answeredBy != nil ? .answered : wasDeclined ? .declined : .missed
        do {
            let visit = try log.end(id: id, outcome: outcome, answeredBy: answeredBy)
            Log.info("visits", "visit \(id): \(outcome.rawValue)" + (answeredBy.map { " by \($0)" } ?? ""))
            onEvent?(.visit(id: id, state: outcome.rawValue, durationMillis: visit.durationMillis))
        } catch {
            Log.warning("visits", "the end of visit \(id) is not logged: \(error)")
        }
    }

    /// The door is stopping: end the recording so its muxer writes its end while the pipeline still runs.
    func stop() { stopRecording() }

    // MARK: - Reading and deleting

    /// Newest first (`VisitLog.listing()`).
    func listing() -> [JSONValue] { log.listing() }

    /// A visit's clip file, when it has a finished one.
    func clipPath(of id: String) throws(VisitsError) -> String {
        guard Visit.isValidID(id) else { throw VisitsError(.badID, "not a visit id") }
        guard let visit = log.visit(id: id) else { throw VisitsError(.notFound, "no visit \(id)") }
        guard log.recordingID != id else { throw VisitsError(.busy, "visit \(id) is being recorded") }
        guard let path = log.clipPath(of: visit) else { throw VisitsError(.notFound, "visit \(id) has no clip") }
        return path
    }

    /// Forgets a visit and removes its clip; refused while it is open or recording.
    func delete(_ id: String) throws(VisitsError) {
        guard Visit.isValidID(id) else { throw VisitsError(.badID, "not a visit id") }
        guard id != current else { throw VisitsError(.busy, "visit \(id) is still going on") }
        try log.delete(id: id)
        Log.info("visits", "visit \(id) deleted")
        onEvent?(.visit(id: id, state: "deleted", durationMillis: nil))
    }

    // MARK: - The clip

    private func stopRecording() {
        guard let (id, clip) = recorder else { return }
        clip.stop()
        guard detachTimer == nil else { return }
        detachTimer = GLibTimer(milliseconds: Self.detachGraceMillis) { [weak self] in
            guard let self, let recorder, recorder.clip === clip else { return }
            Log.info("visits", "the clip of visit \(id) ended with its pipeline (a call that built its own); "
                     + "kept as written")
            clipDetached(id, clip.summary, cut: true)
        }
    }

    /// `cut`: the recorder's pipeline stopped under it, so it never finished the file (it plays up to there).
    private func clipDetached(_ id: String, _ summary: ClipRecorder.Summary, cut: Bool = false) {
        guard let recorder, recorder.id == id else { return }
        self.recorder = nil
        detachTimer?.cancel()
        detachTimer = nil
        media?.clipEnded()
        log.finishClip()
        do {
            if summary.frames == 0 {
                try log.removeClip(of: id)
            } else {
                Log.info("visits", "clip of visit \(id): \(summary.frames) frames, "
                         + "\(Int(summary.seconds.rounded())) s, \(summary.bytes) bytes")
            }
            report(try log.prune())
        } catch {
            Log.warning("visits", "clip of visit \(id): \(error)")
        }
        onEvent?(.visitClip(id: id, state: summary.frames == 0 ? "empty" : cut ? "cut" : "done", frames: Int(summary.frames),
                            bytes: Int64(summary.bytes)))
    }

    private func report(_ prune: VisitLog.PruneReport) {
        if !prune.expiredVisits.isEmpty { Log.info("visits", "\(prune.expiredVisits.count) visit(s) expired") }
        if !prune.droppedClips.isEmpty {
            Log.info("visits", "\(prune.droppedClips.count) old clip(s) removed to stay under visits.max_bytes")
        }
    }

    /// `count` bytes of a clip from `offset`, and the file's size.
    static func readChunk(_ path: String, offset: Int64, count: Int) throws(VisitsError) -> (size: Int64, bytes: [UInt8]) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw VisitsError(.notFound, "the clip cannot be read: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw VisitsError(.storage, "the clip cannot be read") }
        let size = Int64(info.st_size)
        guard offset >= 0, offset <= size else { throw VisitsError(.badID, "offset \(offset) is outside the clip (\(size) bytes)") }
        var bytes = [UInt8](repeating: 0, count: Int(min(Int64(count), size - offset)))
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard got >= 0 else { throw VisitsError(.storage, "the clip cannot be read: \(String(cString: strerror(errno)))") }
        return (size, Array(bytes.prefix(got)))
    }
}
