import DoorCore
import Glibc
import Testing
import TestSupport
@testable import Visits

@Suite struct VisitLogTests {
    static let day: Int64 = 86_400_000
    /// 2026-12-01 00:00 UTC.
    static let base: Int64 = 1_796_083_200_000

    static func at(_ wall: Int64, _ mono: Int64 = 0) -> VisitTime { VisitTime(wallMillis: wall, monotonicMillis: mono) }

    @Test func ringAndEndAreKeptAcrossARestart() throws {
        try withScratchDirectory("visits-test") { state in
            var log = try VisitLog(stateDirectory: state)
            let missed = try log.ring(now: Self.at(Self.base, 1_000))
            try log.end(id: missed.id, outcome: .missed, now: Self.at(Self.base + 30_000, 31_000))
            let answered = try log.ring(now: Self.at(Self.base + 60_000, 61_000))
            try log.end(id: answered.id, outcome: .answered, answeredBy: .paired(name: "Anna's phone"),
                        now: Self.at(Self.base + 200_000, 145_500))
            let link = try log.ring(now: Self.at(Self.base + 300_000, 300_000))
            try log.end(id: link.id, outcome: .answered, answeredBy: .visitorLink, now: Self.at(Self.base, 302_000))
            let declined = try log.ring(now: Self.at(Self.base + 400_000, 400_000))
            try log.end(id: declined.id, outcome: .declined, answeredBy: .visitorLink, now: Self.at(Self.base, 401_000))
            let open = try log.ring(now: Self.at(Self.base + 500_000, 500_000))

            let reread = try VisitLog(stateDirectory: state)
            #expect(reread.warnings.isEmpty)
            #expect(reread.visits.map(\.id) == [missed.id, answered.id, link.id, declined.id, open.id])
            #expect(reread.visits.map(\.sequence) == [1, 2, 3, 4, 5])
            #expect(reread.visits.map(\.outcome) == [.missed, .answered, .answered, .declined, nil])
            // Durations come from the monotonic clock, not the wall clock (which went back for the third visit).
            #expect(reread.visits.map(\.durationMillis) == [30_000, 84_500, 2_000, 1_000, nil])
            #expect(reread.visits[1].answeredBy == .paired(name: "Anna's phone"))
            #expect(reread.visits[1].answeredBy?.description == "Anna's phone")
            #expect(reread.visits[2].answeredBy?.description == "visitor link")
            // A declined visit was not taken by anyone.
            #expect(reread.visits[3].answeredBy == nil)
            #expect(reread.visits[0].ringAt == Self.base)
            #expect(reread.visits.allSatisfy { Visit.isValidID($0.id) })

            // Sequence numbers go on from the highest one in the file.
            var again = reread
            #expect(try again.ring(now: Self.at(Self.base)).sequence == 6)
        }
    }

    @Test func aTornLastLineIsSkippedAndCutOff() throws {
        try withScratchDirectory("visits-test") { state in
            var log = try VisitLog(stateDirectory: state)
            let first = try log.ring(now: Self.at(Self.base))
            try log.end(id: first.id, outcome: .missed, now: Self.at(Self.base, 20_000))
            let whole = readFile(log.logPath)
            // The power went while the next ring was being appended.
            appendFile(log.logPath, Array(#"{"at":1796083260000,"e":"ring","id":"0123456789ab","s"#.utf8))

            var reread = try VisitLog(stateDirectory: state)
            #expect(reread.visits.map(\.id) == [first.id])
            #expect(reread.visits[0].outcome == .missed)
            #expect(reread.warnings.count == 1)
            #expect(reread.warnings[0].contains("torn last line"))
            // The torn bytes are gone, so the next append starts on a line of its own.
            #expect(readFile(log.logPath) == whole)
            let next = try reread.ring(now: Self.at(Self.base + 1))
            let third = try VisitLog(stateDirectory: state)
            #expect(third.warnings.isEmpty)
            #expect(third.visits.map(\.id) == [first.id, next.id])
        }
    }

    @Test func aLastLineMissingOnlyItsNewlineIsKept() throws {
        try withScratchDirectory("visits-test") { state in
            var log = try VisitLog(stateDirectory: state)
            let first = try log.ring(now: Self.at(Self.base))
            var bytes = readFile(log.logPath)
            #expect(bytes.last == 0x0A)
            bytes.removeLast()
            writeFile(log.logPath, bytes)

            var reread = try VisitLog(stateDirectory: state)
            #expect(reread.visits.map(\.id) == [first.id])
            #expect(reread.warnings.isEmpty)
            try reread.end(id: first.id, outcome: .missed)
            #expect(try VisitLog(stateDirectory: state).visits.first?.outcome == .missed)
        }
    }

    @Test func damagedLinesInTheMiddleAreSkippedWithAWarning() throws {
        try withScratchDirectory("visits-test") { state in
            var log = try VisitLog(stateDirectory: state)
            let first = try log.ring(now: Self.at(Self.base))
            appendFile(log.logPath, Array("not json at all\n".utf8))
            appendFile(log.logPath, Array(#"{"e":"end","id":"ffffffffffff","outcome":"missed"}"#.utf8) + [0x0A])
            appendFile(log.logPath, Array(#"{"e":"ring","id":"../../etc/x","seq":9,"at":1}"#.utf8) + [0x0A])
            appendFile(log.logPath, Array(#"{"e":"clip","id":"\#(first.id)","file":"../pairings.json"}"#.utf8) + [0x0A])
            appendFile(log.logPath, [0x00, 0xFF, 0x0A])
            log = try VisitLog(stateDirectory: state)
            let second = try log.ring(now: Self.at(Self.base + 1))

            let reread = try VisitLog(stateDirectory: state)
            #expect(reread.visits.map(\.id) == [first.id, second.id])
            #expect(reread.visits[0].clip == nil)
            #expect(reread.warnings.count == 5)
            #expect(reread.warnings.contains { $0.contains("unknown visit ffffffffffff") })
            #expect(reread.warnings.contains { $0.contains("bad visit id") })
            #expect(reread.warnings.contains { $0.contains("bad clip file name") })
        }
    }

    @Test func anUnreadableLogStartsEmptyInsteadOfFailing() throws {
        try withScratchDirectory("visits-test") { state in
            mkdir(state + "/visits", 0o700)
            mkdir(state + "/visits/visits.jsonl", 0o700)  // a directory where the file belongs
            let log = try VisitLog(stateDirectory: state)
            #expect(log.visits.isEmpty)
            #expect(log.warnings.count == 1)
        }
    }

    @Test func clipsAreNamedInTheLogAndDeletedWithTheirVisit() throws {
        try withScratchDirectory("visits-test") { state in
            var log = try VisitLog(stateDirectory: state)
            let visit = try log.ring(now: Self.at(Self.base))
            let path = try log.startClip(for: visit.id)
            #expect(path == state + "/visits/\(visit.id).mkv")
            writeFile(path, [UInt8](repeating: 7, count: 1000))
            // The one being written cannot be deleted.
            #expect(throws: VisitsError(.busy, "visit \(visit.id) is being recorded; delete it when it ends")) {
                try log.delete(id: visit.id)
            }
            let other = try log.ring(now: Self.at(Self.base + 1))
            #expect(throws: VisitsError.self) { _ = try log.startClip(for: other.id) }
            log.finishClip()
            try log.end(id: visit.id, outcome: .missed)

            // An empty clip goes, its visit stays.
            writeFile(try log.startClip(for: other.id), [])
            #expect(throws: VisitsError.self) { try log.removeClip(of: other.id) }
            log.finishClip()
            try log.removeClip(of: other.id)
            #expect(log.visit(id: other.id)?.clip == nil)

            var reread = try VisitLog(stateDirectory: state)
            #expect(reread.visit(id: other.id)?.clip == nil)
            #expect(reread.visit(id: visit.id)?.clip == "\(visit.id).mkv")
            #expect(reread.clipPath(of: reread.visits[0]) == path)
            try reread.delete(id: visit.id)
            #expect(directoryEntries(state + "/visits") == ["visits.jsonl"])
            #expect(try VisitLog(stateDirectory: state).visits.map(\.id) == [other.id])

            // Ids from a browser are checked before they name anything.
            #expect(throws: VisitsError(.badID, "'../visits.jsonl' is not a visit id")) { try reread.delete(id: "../visits.jsonl") }
            #expect(throws: VisitsError(.notFound, "no visit \(visit.id)")) { try reread.delete(id: visit.id) }
        }
    }

    @Test func aClipLeftBehindByAPowerCutDuringDeleteIsRemovedAtTheNextStart() throws {
        try withScratchDirectory("visits-test") { state in
            var log = try VisitLog(stateDirectory: state)
            let kept = try log.ring(now: Self.at(Self.base))
            writeFile(try log.startClip(for: kept.id), [1])
            log.finishClip()
            let gone = try log.ring(now: Self.at(Self.base + 1))
            let path = try log.startClip(for: gone.id)
            log.finishClip()
            try log.delete(id: gone.id)
            // The power went after the delete line and before the file was removed.
            writeFile(path, [1, 2, 3])
            writeFile(state + "/visits/notes.txt", [1])  // not a clip name: left alone

            let reread = try VisitLog(stateDirectory: state)
            #expect(reread.visits.map(\.id) == [kept.id])
            #expect(directoryEntries(state + "/visits") == ["\(kept.id).mkv", "notes.txt", "visits.jsonl"])
            #expect(reread.warnings == ["removed clip \(gone.id).mkv: its visit was already deleted"])
        }
    }

    @Test func aMissingClipFileIsListedWithoutIt() throws {
        try withScratchDirectory("visits-test") { state in
            var log = try VisitLog(stateDirectory: state)
            let visit = try log.ring(now: Self.at(Self.base))
            _ = try log.startClip(for: visit.id)  // the power went before the recorder created the file
            let reread = try VisitLog(stateDirectory: state)
            #expect(reread.visits.map(\.id) == [visit.id])
            #expect(reread.visits[0].clip == nil)
            #expect(reread.warnings.count == 1)
        }
    }

    @Test func ageOutForgetsOldVisitsAndTheirClips() throws {
        try withScratchDirectory("visits-test") { state in
            var settings = VisitSettings()
            settings.maxAgeDays = 7
            var log = try VisitLog(stateDirectory: state, settings: settings)
            var ids: [String] = []
            for day in 0..<10 {
                let visit = try log.ring(now: Self.at(Self.base + Int64(day) * Self.day))
                writeFile(try log.startClip(for: visit.id), [1, 2, 3])
                log.finishClip()
                ids.append(visit.id)
            }
            let report = try log.prune(now: Self.at(Self.base + 10 * Self.day))
            // Older than 7 days at day 10: days 0, 1 and 2.
            #expect(report.expiredVisits == Array(ids[0..<3]))
            #expect(log.visits.map(\.id) == Array(ids[3...]))
            #expect(directoryEntries(state + "/visits") == (ids[3...].map { $0 + ".mkv" } + ["visits.jsonl"]).sorted())
            #expect(try VisitLog(stateDirectory: state).visits.map(\.id) == Array(ids[3...]))
        }
    }

    @Test func aClockStepCannotPruneNewerVisitsFirst() throws {
        try withScratchDirectory("visits-test") { state in
            var settings = VisitSettings()
            settings.maxAgeDays = 7
            var log = try VisitLog(stateDirectory: state, settings: settings)
            let old = try log.ring(now: Self.at(Self.base))
            // The clock fell back to 1970 (a Pi without a real-time clock, before NTP) for two rings.
            let early1 = try log.ring(now: Self.at(5_000))
            let early2 = try log.ring(now: Self.at(9_000))
            // Then NTP set it right.
            let recent = try log.ring(now: Self.at(Self.base + 9 * Self.day))
            // And one ring while the clock was ahead.
            let future = try log.ring(now: Self.at(Self.base + 400 * Self.day))

            // At day 9 the first visit is older than 7 days. The 1970 ones rang after it, at a time nobody knows:
            // they count as old as it (never older), so they go with it, and the day-9 one stays.
            #expect(try log.prune(now: Self.at(Self.base + 9 * Self.day)).expiredVisits == [old.id, early1.id, early2.id])
            #expect(log.visits.map(\.id) == [recent.id, future.id])
            // The list stays in ring order whatever the stamps say.
            #expect(try VisitLog(stateDirectory: state, settings: settings).visits.map(\.sequence) == [4, 5])
            // At day 20 the day-9 one expires; the one stamped 400 days ahead counts as now and stays.
            #expect(try log.prune(now: Self.at(Self.base + 20 * Self.day)).expiredVisits == [recent.id])
            #expect(log.visits.map(\.id) == [future.id])
        }
    }

    @Test func sizeBoundDropsTheOldestClipsButNeverTheOneBeingWritten() throws {
        try withScratchDirectory("visits-test") { state in
            var settings = VisitSettings()
            settings.maxBytes = 1_000_000
            settings.clipSeconds = 1
            var log = try VisitLog(stateDirectory: state, settings: settings)
            var ids: [String] = []
            for index in 0..<4 {
                let visit = try log.ring(now: Self.at(Self.base + Int64(index)))
                writeFile(try log.startClip(for: visit.id), [UInt8](repeating: 1, count: 300_000))
                if index < 3 { log.finishClip() }
                ids.append(visit.id)
            }
            // 1.2 MB of clips: the oldest goes.
            var report = try log.prune(now: Self.at(Self.base + 10))
            #expect(report.droppedClips == [ids[0]])
            #expect(report.bytesAfter <= 1_000_000)
            #expect(report.expiredVisits.isEmpty)
            #expect(log.visits.map(\.id) == ids)  // the visit stays listed, without its clip
            #expect(log.visits.map { $0.clip != nil } == [false, true, true, true])

            // The clip being written grows past the bound on its own: everything else goes, it stays.
            writeFile(log.clipPath(of: log.visits[3])!, [UInt8](repeating: 1, count: 1_100_000))
            report = try log.prune(now: Self.at(Self.base + 20))
            #expect(report.droppedClips == [ids[1], ids[2]])
            #expect(report.bytesAfter > 1_000_000)
            #expect(directoryEntries(state + "/visits") == [ids[3] + ".mkv", "visits.jsonl"])
            let reread = try VisitLog(stateDirectory: state, settings: settings)
            #expect(reread.visits.map { $0.clip != nil } == [false, false, false, true])
            #expect(reread.warnings.isEmpty)
        }
    }

    @Test func theLogIsCompactedWhenDeletedVisitsPileUp() throws {
        try withScratchDirectory("visits-test") { state in
            var log = try VisitLog(stateDirectory: state)
            var kept: [String] = []
            for index in 0..<200 {
                let visit = try log.ring(now: Self.at(Self.base + Int64(index)))
                try log.end(id: visit.id, outcome: .missed)
                if index % 10 == 0 { kept.append(visit.id) } else { try log.delete(id: visit.id) }
            }
            let lines = readFile(log.logPath).filter { $0 == 0x0A }.count
            // 200 rings, ends and 180 deletes were appended; far fewer lines remain.
            #expect(lines < 2 * kept.count * 2 + 64 + 3)
            let reread = try VisitLog(stateDirectory: state)
            #expect(reread.visits.map(\.id) == kept)
            #expect(reread.visits.allSatisfy { $0.outcome == .missed })
            #expect(reread.warnings.isEmpty)
            var again = reread
            #expect(try again.ring(now: Self.at(Self.base)).sequence > reread.visits.last!.sequence)
        }
    }

    @Test func theListingIsNewestFirstWithEveryField() throws {
        try withScratchDirectory("visits-test") { state in
            var log = try VisitLog(stateDirectory: state)
            let missed = try log.ring(now: Self.at(Self.base, 0))
            writeFile(try log.startClip(for: missed.id), [UInt8](repeating: 0, count: 1234))
            log.finishClip()
            try log.end(id: missed.id, outcome: .missed, now: Self.at(Self.base, 30_000))
            let answered = try log.ring(now: Self.at(Self.base + 60_000, 60_000))
            try log.end(id: answered.id, outcome: .answered, answeredBy: .paired(name: "Kitchen"),
                        now: Self.at(Self.base, 70_000))
            let open = try log.ring(now: Self.at(Self.base + 90_000, 90_000))

            let list = log.listing()
            #expect(list.map { $0["id"]?.stringValue } == [open.id, answered.id, missed.id])
            #expect(list[0]["outcome"] == .null)
            #expect(list[0]["durationMs"] == .null)
            #expect(list[1] == ["id": .string(answered.id), "seq": 2, "at": .number(Double(Self.base + 60_000)),
                                "outcome": "answered", "by": "paired", "byName": "Kitchen", "durationMs": 10_000,
                                "clip": nil, "clipBytes": nil])
            #expect(list[2]["clip"]?.stringValue == "\(missed.id).mkv")
            #expect(list[2]["clipBytes"] == 1234)
            #expect(list[2]["by"] == .null)
        }
    }

    @Test func settingsValidationNamesTheKey() {
        #expect(throws: Never.self) { try VisitSettings().validate() }
        var settings = VisitSettings()
        #expect(settings.recordCalls == false)
        settings.maxBytes = 10
        #expect(throws: ConfigurationError.self) { try settings.validate() }
        #expect(Self.key(settings) == "visits.max_bytes")
        settings = VisitSettings()
        settings.maxAgeDays = 0
        #expect(Self.key(settings) == "visits.max_age_days")
        settings = VisitSettings()
        settings.clipSeconds = 301
        #expect(Self.key(settings) == "visits.clip_seconds")
        settings = VisitSettings()
        settings.callMaxSeconds = 5
        #expect(Self.key(settings) == "visits.call_max_seconds")
        // Enough for a clip, not for a whole call once calls are recorded.
        settings = VisitSettings()
        settings.maxBytes = 20_000_000
        #expect(Self.key(settings) == nil)
        settings.recordCalls = true
        #expect(Self.key(settings) == "visits.max_bytes")
        #expect(Self.message(settings)?.contains("visits.call_max_seconds") == true)
    }

    static func key(_ settings: VisitSettings) -> String? {
        do { try settings.validate(); return nil } catch { return error.key }
    }

    static func message(_ settings: VisitSettings) -> String? {
        do { try settings.validate(); return nil } catch { return error.description }
    }
}
