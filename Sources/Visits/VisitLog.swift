import DoorCore
#if canImport(Glibc)
import Glibc
#endif

/// The door's visit log: `<state>/visits/visits.jsonl`, one JSON event per line, only ever appended to (and
/// rewritten whole through `AtomicFile` when deleted events pile up), next to the clips `<id>.mkv`.
///
/// Loading never fails on content: a line that does not parse is skipped with a warning, and a torn last line
/// (a power cut in the middle of an append) is cut off so the next append starts on a clean line. Visits are
/// ordered by their sequence number, never by wall time, and ages are taken so that a clock step cannot make a
/// newer visit go before an older one (see `prune`).
public struct VisitLog {
    public struct PruneReport: Sendable, Equatable {
        /// Visits forgotten for their age (with their clips).
        public var expiredVisits: [String] = []
        /// Visits whose clip was removed to get under `max_bytes` (the visit stays in the log).
        public var droppedClips: [String] = []
        /// Clips plus the log file, after pruning.
        public var bytesAfter: Int64 = 0
    }

    public let directory: String
    public var logPath: String { directory + "/visits.jsonl" }
    public var settings: VisitSettings
    /// In sequence order (oldest first).
    public private(set) var visits: [Visit] = []
    /// The visit whose clip is being written: pruning leaves it alone and deleting it is refused.
    public private(set) var recordingID: String?
    /// What loading skipped or repaired, one sentence each (also logged).
    public private(set) var warnings: [String] = []

    private var nextSequence = 1
    /// Monotonic ring times of the visits opened by this process (durations of the others are unknown).
    private var ringMonotonic: [String: Int64] = [:]
    private var lineCount = 0

    /// The largest log that is read; compaction keeps it far below this.
    static let readLimit = 64 << 20
    static let clipExtensions = ["mkv", "mp4"]

    /// Opens (creating the directory, mode 0700: clips are private) and reads the log.
    public init(stateDirectory: String, settings: VisitSettings = VisitSettings()) throws(VisitsError) {
        directory = stateDirectory + "/visits"
        self.settings = settings
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw VisitsError.storage(directory, "mkdir", errno)
        }
        load()
    }

    // MARK: - Recording events

    /// The bell was pressed: a new open visit, written before anything else happens.
    @discardableResult
    public mutating func ring(now: VisitTime = .now) throws(VisitsError) -> Visit {
        var id = Visit.newID()
        while visits.contains(where: { $0.id == id }) { id = Visit.newID() }
        let visit = Visit(id: id, sequence: nextSequence, ringAt: now.wallMillis)
        try append([.ring(visit)])
        nextSequence += 1
        visits.append(visit)
        ringMonotonic[id] = now.monotonicMillis
        return visit
    }

    /// The visit ended: answered (by whom), missed (nobody answered in time) or declined.
    @discardableResult
    public mutating func end(id: String, outcome: Visit.Outcome, answeredBy: Visit.Answerer? = nil,
                             now: VisitTime = .now) throws(VisitsError) -> Visit {
        let index = try indexOf(id)
        var visit = visits[index]
        visit.outcome = outcome
        visit.answeredBy = outcome == .answered ? answeredBy : nil
        visit.durationMillis = ringMonotonic[id].map { max(0, now.monotonicMillis - $0) }
        try append([.end(visit)])
        visits[index] = visit
        ringMonotonic[id] = nil
        return visit
    }

    /// Names the visit's clip in the log (before the file exists, so no clip file is ever unaccounted for) and
    /// returns the path to record to. One clip is written at a time.
    public mutating func startClip(for id: String, fileExtension: String = "mkv") throws(VisitsError) -> String {
        precondition(Self.clipExtensions.contains(fileExtension), "clip extension \(fileExtension)")
        let index = try indexOf(id)
        if let recordingID, recordingID != id {
            throw VisitsError(.busy, "visit \(recordingID) is being recorded; one clip at a time")
        }
        let file = id + "." + fileExtension
        try append([.clip(id: id, file: file)])
        visits[index].clip = file
        recordingID = id
        return directory + "/" + file
    }

    /// The clip being written is complete (or abandoned): it may now be pruned or deleted.
    public mutating func finishClip() { recordingID = nil }

    /// Removes a visit's clip and keeps the visit (an empty clip: the recording stopped before its first
    /// keyframe; or a browser that wants the clip gone but the entry kept).
    public mutating func removeClip(of id: String) throws(VisitsError) {
        let index = try indexOf(id)
        guard recordingID != id else { throw VisitsError(.busy, "visit \(id) is being recorded; remove its clip when it ends") }
        guard let clip = visits[index].clip else { return }
        try append([VisitLogLine(.dropClip, id: id)])
        unlink(directory + "/" + clip)
        visits[index].clip = nil
    }

    /// Forgets a visit and removes its clip (a paired browser's or `intercom ctl visits delete`'s request).
    public mutating func delete(id: String) throws(VisitsError) {
        let index = try indexOf(id)
        guard recordingID != id else { throw VisitsError(.busy, "visit \(id) is being recorded; delete it when it ends") }
        try append([VisitLogLine(.delete, id: id)])
        if let clip = visits[index].clip { unlink(directory + "/" + clip) }
        visits.remove(at: index)
        ringMonotonic[id] = nil
        try compactIfWorthIt()
    }

    public func visit(id: String) -> Visit? { visits.first { $0.id == id } }

    /// The clip's path, when the visit has one.
    public func clipPath(of visit: Visit) -> String? { visit.clip.map { directory + "/" + $0 } }

    // MARK: - Bounds

    /// Applies `max_age_days`, then `max_bytes`; call it when a clip starts and when one ends.
    ///
    /// Age: a visit counts as at least as new as every visit before it in sequence (one stamped while the wall
    /// clock was behind, say 1970 on a Pi before NTP, looks as old as the visit before it, not decades old), and
    /// one stamped in the future counts as now. So only a run of
    /// the oldest visits expires, whatever the clock did. Size: clips go oldest first, never the one being
    /// written; the visits stay listed without a clip.
    @discardableResult
    public mutating func prune(now: VisitTime = .now) throws(VisitsError) -> PruneReport {
        var report = PruneReport()
        let cutoff = now.wallMillis - Int64(settings.maxAgeDays) * 86_400_000
        var newestSoFar = Int64.min
        var expired: [String] = []
        for visit in visits {
            newestSoFar = max(newestSoFar, min(visit.ringAt, now.wallMillis))
            guard newestSoFar < cutoff else { break }
            if visit.id != recordingID { expired.append(visit.id) }
        }
        if !expired.isEmpty {
            try append(expired.map { VisitLogLine(.delete, id: $0) })
            for id in expired {
                if let clip = visit(id: id)?.clip { unlink(directory + "/" + clip) }
                ringMonotonic[id] = nil
            }
            visits.removeAll { expired.contains($0.id) }
            report.expiredVisits = expired
        }

        var total = storedBytes()
        for index in visits.indices where total > settings.maxBytes {
            let visit = visits[index]
            guard let clip = visit.clip, visit.id != recordingID else { continue }
            let size = fileSize(directory + "/" + clip) ?? 0
            try append([VisitLogLine(.dropClip, id: visit.id)])
            unlink(directory + "/" + clip)
            visits[index].clip = nil
            total -= size
            report.droppedClips.append(visit.id)
        }
        try compactIfWorthIt()
        report.bytesAfter = storedBytes()
        return report
    }

    /// The clips plus the log file, in bytes (what `max_bytes` bounds).
    public func storedBytes() -> Int64 {
        visits.compactMap(\.clip).reduce(fileSize(logPath) ?? 0) { $0 + (fileSize(directory + "/" + $1) ?? 0) }
    }

    // MARK: - File

    private func indexOf(_ id: String) throws(VisitsError) -> Int {
        guard Visit.isValidID(id) else { throw VisitsError(.badID, "'\(id.prefix(40))' is not a visit id") }
        guard let index = visits.firstIndex(where: { $0.id == id }) else { throw VisitsError(.notFound, "no visit \(id)") }
        return index
    }

    /// Appends whole lines in one write and flushes them: after a power cut a line is there whole, or torn at
    /// the end of the file (which `load` cuts off), never missing from the middle.
    private mutating func append(_ lines: [VisitLogLine]) throws(VisitsError) {
        let bytes = lines.flatMap(\.encoded)
        let fd = open(logPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VisitsError.storage(logPath, "open", errno) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let error = VisitsError.storage(logPath, "write", errno)
                // A partial line would glue itself to the next one: cut the file back to where it was.
                var info = stat()
                if fstat(fd, &info) == 0 { ftruncate(fd, info.st_size - off_t(written)) }
                throw error
            }
            written += count
        }
        guard fdatasync(fd) == 0 else { throw VisitsError.storage(logPath, "fdatasync", errno) }
        lineCount += lines.count
    }

    /// Rewrites the log with only the live visits once most of its lines are about deleted ones.
    private mutating func compactIfWorthIt() throws(VisitsError) {
        let live = visits.map { VisitLogLine.lines(for: $0) }
        let liveCount = live.reduce(0) { $0 + $1.count }
        guard lineCount > 2 * liveCount + 64 else { return }
        do {
            try AtomicFile.write(live.flatMap { $0.flatMap(\.encoded) }, to: logPath, mode: 0o600)
        } catch {
            throw VisitsError(.storage, error.description)
        }
        lineCount = liveCount
    }

    private mutating func warn(_ text: String) {
        warnings.append(text)
        Log.warning("visits", text)
    }

    private mutating func load() {
        let fd = open(logPath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            if errno != ENOENT { warn("\(logPath) cannot be opened (\(String(cString: strerror(errno)))); starting an empty log") }
            return
        }
        defer { close(fd) }
        guard let bytes = AtomicFile.read(logPath, limit: Self.readLimit) else {
            warn("\(logPath) cannot be read or is over \(Self.readLimit) bytes; starting an empty log")
            return
        }
        var start = 0
        var number = 0
        while start < bytes.count {
            number += 1
            guard let newline = bytes[start...].firstIndex(of: 0x0A) else {
                // A power cut during the last append: everything before it is whole. A line cut just before
                // its newline is whole too; it is kept and finished.
                if let line = VisitLogLine.decode(bytes[start...]), apply(line) == nil {
                    lineCount += 1
                    var newline: UInt8 = 0x0A
                    if pwrite(fd, &newline, 1, off_t(bytes.count)) != 1 {
                        warn("\(logPath): could not finish the last line (\(String(cString: strerror(errno))))")
                    }
                    break
                }
                warn("\(logPath): skipped a torn last line (\(bytes.count - start) bytes, line \(number))")
                if ftruncate(fd, off_t(start)) != 0 {
                    warn("\(logPath): could not cut off the torn line (\(String(cString: strerror(errno))))")
                }
                break
            }
            let text = bytes[start..<newline]
            start = newline + 1
            if text.isEmpty { continue }
            lineCount += 1
            guard let line = VisitLogLine.decode(text) else {
                warn("\(logPath): line \(number) is not a visit event; skipped")
                continue
            }
            if let problem = apply(line) { warn("\(logPath): line \(number): \(problem); skipped") }
        }
        visits.sort { $0.sequence < $1.sequence }
        removeOrphanClips()
        for index in visits.indices {
            if let clip = visits[index].clip, fileSize(directory + "/" + clip) == nil {
                warn("clip \(clip) of visit \(visits[index].id) is missing; listed without it")
                visits[index].clip = nil
            }
        }
    }

    /// Clip files no live visit names: their visit was deleted or expired and the power went before the file
    /// was removed (the log names a clip before the file exists, so nothing else leaves one behind).
    private mutating func removeOrphanClips() {
        guard let dir = opendir(directory) else { return }
        var names: [String] = []
        while let entry = readdir(dir) {
            names.append(withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
        }
        closedir(dir)
        let named = Set(visits.compactMap(\.clip))
        for name in names where !named.contains(name) {
            let parts = name.split(separator: ".")
            guard parts.count == 2, Visit.isValidID(String(parts[0])), Self.clipExtensions.contains(String(parts[1])) else {
                continue
            }
            unlink(directory + "/" + name)
            warn("removed clip \(name): its visit was already deleted")
        }
    }

    /// Folds one event into `visits`; returns why it does not fit, or nil.
    private mutating func apply(_ line: VisitLogLine) -> String? {
        guard Visit.isValidID(line.id) else { return "bad visit id" }
        let index = visits.firstIndex { $0.id == line.id }
        if line.event == .ring {
            guard index == nil else { return "visit \(line.id) rang twice" }
            guard let seq = line.seq, seq > 0, let at = line.at else { return "ring without seq or at" }
            visits.append(Visit(id: line.id, sequence: seq, ringAt: at))
            nextSequence = max(nextSequence, seq + 1)
            return nil
        }
        guard let index else { return "\(line.event.rawValue) for unknown visit \(line.id)" }
        switch line.event {
        case .ring:
            break
        case .clip:
            guard let file = line.file,
                  Self.clipExtensions.contains(where: { file == line.id + "." + $0 }) else { return "bad clip file name" }
            visits[index].clip = file
        case .end:
            guard let outcome = line.outcome else { return "end without outcome" }
            visits[index].outcome = outcome
            switch (line.by, line.byName) {
            case ("paired"?, let name?): visits[index].answeredBy = .paired(name: name)
            case ("link"?, _): visits[index].answeredBy = .visitorLink
            default: visits[index].answeredBy = nil
            }
            visits[index].durationMillis = line.durationMillis
        case .dropClip:
            visits[index].clip = nil
        case .delete:
            visits.remove(at: index)
        }
        return nil
    }
}

func fileSize(_ path: String) -> Int64? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Int64(info.st_size)
}
