import DoorCore
import Glibc
import MainLoop
import Notify
import Testing

/// The subscriptions file is written off the loop: `done` runs once it is on disk, and a write that fails is
/// reported and leaves the list as the file still has it.
@Suite struct PushSubscriptionStoreTests {
    static func subscription(_ id: String) throws -> PushSubscription {
        try PushSubscription(id: id, name: "phone", endpoint: "https://push.example/\(id)",
                             p256dh: Base64URL.encode([4] + Array(repeating: 7, count: 64)),
                             auth: Base64URL.encode(Array(repeating: 9, count: 16)), addedAt: 1)
    }

    static func scratch() -> String {
        var template = Array("/tmp/push-store-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    /// Adds one subscription; the write's outcome and what the store holds after it.
    static func add(_ subscription: PushSubscription, in directory: String) async -> (failure: String?, kept: Int) {
        await { @GLibActor in
            let store = PushSubscriptionStore(stateDirectory: directory)
            let failure = await withCheckedContinuation { (written: CheckedContinuation<String?, Never>) in
                store.add(subscription) { written.resume(returning: $0) }
            }
            return (failure, store.subscriptions.count)
        }()
    }

    init() { GLibLoop.shared.start() }

    @Test func aSubscriptionIsOnDiskWhenItsDoneRuns() async throws {
        let directory = Self.scratch()
        let (failure, kept) = await Self.add(try Self.subscription("a"), in: directory)
        #expect(failure == nil)
        #expect(kept == 1)
        let reloaded = await { @GLibActor in PushSubscriptionStore(stateDirectory: directory).subscriptions.map(\.id) }()
        #expect(reloaded == ["a"])
    }

    @Test func aWriteThatFailsIsReportedAndTheListIsWhatTheFileHolds() async throws {
        let directory = Self.scratch()
        // AtomicFile writes a temporary file first; a directory in its place cannot be opened (not even by root).
        _ = mkdir(directory + "/push-subscriptions.json.tmp-\(getpid())", 0o700)
        let (failure, kept) = await Self.add(try Self.subscription("b"), in: directory)
        #expect(failure?.contains("cannot save push subscriptions") == true)
        #expect(kept == 0)
    }
}
