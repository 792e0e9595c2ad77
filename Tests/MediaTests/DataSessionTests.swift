import CGStreamer
import Glibc
import MainLoop
import Synchronization
import Testing
@testable import Media

/// An offering `DataSession` against an answering one in this process, signaling passed by hand: the channel
/// opens, messages cross both ways in order, and candidates that come before the answer wait for it.
///
/// ICE needs a host address that is not loopback (libnice gathers none on `lo`); packets to our own address
/// never leave the machine.
@Suite(.serialized) struct DataSessionTests {
    init() {
        gst_init(nil, nil)
        GLibLoop.shared.start()
    }

    @Test func offeringAndAnsweringSessionsTalk() async throws {
        try #require(elementExists("webrtcbin"), "webrtcbin is not installed")
        try #require(Self.hasNonLoopbackAddress(), "no non-loopback IPv4 address for ICE host candidates")
        let pair = await Pair.make()

        let opened = await eventually(within: .seconds(20)) { pair.offerer.isOpen && pair.answerer.isOpen }
        let state = await pair.describe()
        #expect(opened, "the channel did not open: \(state)")
        // Candidates that reached the offerer before its answer were held, then used.
        let early = await pair.candidatesBeforeAnswer
        #expect(early > 0)
        let hasApplication = await pair.offerLine("m=application"), hasSCTP = await pair.offerLine("a=sctp-port")
        #expect(hasApplication && hasSCTP)

        await pair.sendFromOfferer(["one", "two", "three"])
        await pair.sendBytesFromAnswerer([1, 2, 3, 250])
        let texts = await eventually { pair.answererReceived == [.text("one"), .text("two"), .text("three")] }
        let answererGot = await pair.answererReceived
        #expect(texts, "the answerer got \(answererGot)")
        let bytes = await eventually { pair.offererReceived == [.bytes([1, 2, 3, 250])] }
        let offererGot = await pair.offererReceived
        #expect(bytes, "the offerer got \(offererGot)")

        // Our own close reports no reason. (That the other side sees it is checked with a browser in
        // suites/e2e/test_dial.py: a webrtcbin answerer here did not report the stream reset within 10 s.)
        await pair.closeOfferer()
        let closed = await eventually { pair.offererClosed != nil }
        let offererClosed = await pair.offererClosed
        #expect(closed && offererClosed == .some(nil))
        await pair.closeBoth()
    }

    /// webrtcbin queues `on-open` (after sending the DCEP OPEN) and the peer's first message on different
    /// threads; on a loaded machine the message can come first — a paired page's `hello` can, and the door's
    /// reply to it then failed because the channel was not open yet. Replayed here in that order: the message waits
    /// for `onOpen`, and a reply sent from `onMessage` finds the session open.
    @Test func aMessageBeforeOpenIsDeliveredAfterIt() async {
        let seen = await Self.replayMessageBeforeOpen()
        #expect(seen == ["open", "message hello (open: true)", "message again (open: true)"])
    }

    @GLibActor static func replayMessageBeforeOpen() -> [String] {
        let session = DataSession(peer: "page", connectionId: "dc_early", label: "ring", ordered: true)
        var seen: [String] = []
        session.onEvent = { event in
            if case .open = event { seen.append("open") }
            if case .message(.text(let text)) = event { seen.append("message \(text) (open: \(session.isOpen))") }
        }
        session.received(.text("hello"))
        session.received(.text("again"))
        let beforeOpen = seen
        session.channelOpened()
        session.channelOpened() // a second on-open (the announced channel's ready state, then the signal) is one
        session.close()
        return beforeOpen.isEmpty ? seen : ["delivered before open: \(beforeOpen)"]
    }

    static func hasNonLoopbackAddress() -> Bool {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return false }
        defer { freeifaddrs(list) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            let flags = Int32(entry.pointee.ifa_flags)
            if let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
               flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0 { return true }
            cursor = entry.pointee.ifa_next
        }
        return false
    }
}

/// Two sessions wired to each other; the answer is held until the answerer's candidates reached the offerer.
@GLibActor
private final class Pair {
    let offerer = DataSession(peer: "answerer", connectionId: "dc_test", label: "chat", ordered: true)
    var answerer: DataSession!
    var offererReceived: [DataSession.Message] = []
    var answererReceived: [DataSession.Message] = []
    var offererClosed: String??
    var answererClosed: String??
    var candidatesBeforeAnswer = 0
    private var answer: String?
    private var answerTimer: GLibTimer?
    private var offerSDP = ""

    static func make() async -> Pair {
        let pair = Pair()
        pair.wire()
        return pair
    }

    private func wire() {
        offerer.onEvent = { [weak self] event in
            guard let self else { return }
            switch event {
            case .message(let message): offererReceived.append(message)
            case .closed(let detail): offererClosed = .some(detail)
            case .offer(let sdp): offered(sdp)
            case .localCandidate(let mline, let candidate): answerer?.addRemoteCandidate(mline: mline, candidate: candidate)
            case .answer, .open: break
            }
        }
        do { try offerer.start() } catch { Issue.record("offering failed: \(error)") }
    }

    private func offered(_ sdp: String) {
        offerSDP = sdp
        do {
            let answerer = try DataSession(peer: "offerer", connectionId: "dc_test", offerSDP: sdp)
            self.answerer = answerer
            answerer.onEvent = { [weak self] event in
                guard let self else { return }
                switch event {
                case .message(let message): answererReceived.append(message)
                case .closed(let detail): answererClosed = .some(detail)
                case .localCandidate(let mline, let candidate):
                    if answer == nil || answerTimer != nil { candidatesBeforeAnswer += 1 }
                    offerer.addRemoteCandidate(mline: mline, candidate: candidate)
                case .answer(let sdp): answered(sdp)
                case .offer, .open: break
                }
            }
            try answerer.start()
        } catch {
            Issue.record("answering failed: \(error)")
        }
    }

    private func answered(_ sdp: String) {
        answer = sdp
        // Held back so the answerer's first candidates arrive before it.
        answerTimer = GLibTimer(milliseconds: 300) { [weak self] in
            self?.answerTimer = nil
            try? self?.offerer.setRemoteAnswer(sdp)
        }
    }

    func offerLine(_ prefix: String) -> Bool { offerSDP.split(separator: "\r\n").contains { $0.hasPrefix(prefix) } }
    func sendFromOfferer(_ texts: [String]) { for text in texts { offerer.send(text: text) } }
    func sendBytesFromAnswerer(_ bytes: [UInt8]) { answerer.send(bytes: bytes) }
    func closeOfferer() { offerer.close() }
    func closeBoth() { offerer.close(); answerer?.close() }
    func describe() -> String {
        "offerer open \(offerer.isOpen) closed \(String(describing: offererClosed)), "
            + "answerer open \(answerer?.isOpen ?? false) closed \(String(describing: answererClosed))"
    }
}

/// Polls `condition` on the GLib loop until it holds or `timeout` passes.
private func eventually(within timeout: Duration = .seconds(5), _ condition: @escaping @GLibActor () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}
