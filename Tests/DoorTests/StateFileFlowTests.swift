@testable import Door
import Dispatch
import DoorCore
import Glibc
import MainLoop
import Signaling
import Testing
import TestSupport

/// The pairings file is written off the loop (`StateFileWriter`): a reply that says a pairing was saved or
/// removed goes only once the file is written, a write that fails is still reported, and the loop goes on
/// serving while a write takes its time.
extension DoorFlows {
@Suite struct StateFileFlowTests {
    /// Makes every write of `pairings.json` from this process fail: `AtomicFile` writes a temporary file next to
    /// it first, and a directory in that place cannot be opened for writing (not even by root).
    static func blockWrites(_ door: DoorHarness) async {
        await door.onLoop { device, _, _ in
            _ = mkdir(device.paired!.store.path + ".tmp-\(getpid())", 0o700)
        }
    }

    @Test func aPairingThatCannotBeSavedIsRefusedAndAFailedUnpairSaysSo() async throws {
        let kept = Pairing.make(name: "Old phone", peerId: "phone-9", now: 1)
        let door = try await DataFlowTests.pairingDoor([kept])
        await Self.blockWrites(door)
        #expect(try door.ctl.send(["cmd": "pair"])["ok"] == true)
        let token = try await door.onLoop { device, _, _ in
            guard case .pairing(let window) = device.machine.phase else { throw HarnessError("no pairing window") }
            return window.token.bytes
        }
        try await DataFlowTests.pair(door, from: "phone-1", "dc_1", key: token)
        #expect(door.next("pair-refused")?["reason"] == "storage")
        let replies = await door.onLoop { _, _, media in media.data(with: "phone-1")!.sent.compactMap { $0 } }
        #expect(replies == [["t": "pair-refused", "reason": "storage"]], "no `paired` for a pairing that is not on disk")

        let unpaired = try door.ctl.send(["cmd": "unpair", "id": .string(kept.id)])
        #expect(unpaired["ok"] == false)
        #expect(unpaired["error"]?.stringValue?.contains("could not be saved") == true)
        guard case .array(let listed)? = try door.ctl.send(["cmd": "pairings"])["pairings"] else {
            throw HarnessError("pairings lists no array")
        }
        #expect(listed.map { $0["id"] } == [.string(kept.id)], "the old pairing stays, the new one was not kept")
        await door.stop()
    }

    @Test func theLoopServesWhileThePairingsFileIsWrittenAndTheReplyWaitsForIt() async throws {
        let door = try await DataFlowTests.pairingDoor()
        let held = DispatchSemaphore(value: 0)
        let writing = DispatchSemaphore(value: 0)
        await door.onLoop { device, _, _ in
            device.paired!.writer.setBeforeWrite { _ in
                writing.signal()
                held.wait()
            }
        }
        #expect(try door.ctl.send(["cmd": "pair"])["ok"] == true)
        let token = try await door.onLoop { device, _, _ in
            guard case .pairing(let window) = device.machine.phase else { throw HarnessError("no pairing window") }
            return window.token.bytes
        }
        try await DataFlowTests.pair(door, from: "phone-1", "dc_1", key: token)
        #expect(writing.wait(timeout: .now() + 5) == .success, "the pairing went to the writer")
        // The write is held: the loop still answers, and the page has heard nothing yet.
        #expect(try door.ctl.send(["cmd": "state"])["ok"] == true)
        let early = await door.onLoop { _, _, media in media.data(with: "phone-1")!.sent("paired").count }
        #expect(early == 0, "`paired` waits for the file")
        held.signal()
        #expect(door.next("paired")?["name"] == "Anna's phone")
        let replies = await door.onLoop { _, _, media in media.data(with: "phone-1")!.sent("paired").count }
        #expect(replies == 1)
        await door.onLoop { device, _, _ in device.paired!.writer.setBeforeWrite(nil) }
        await door.stop()
    }
}
}
