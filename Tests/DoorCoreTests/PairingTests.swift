import Glibc
import Testing
import TestSupport
@testable import DoorCore

@Suite struct PairingWindowTests {
    typealias Machine = CallStateMachine
    static let token = PairingToken(bytes: Array(16..<32))!

    func machine(canPair: Bool) -> Machine {
        var settings = Machine.Settings()
        settings.canPair = canPair
        settings.homePeerID = "intercom-home-0123"
        settings.webBase = "http://door.local:8080"
        let counter = Counter()
        return Machine(settings: settings, makeToken: { counter.next() })
    }

    /// Hands out tokens 0, 1, 2… (one per window).
    final class Counter: @unchecked Sendable {  // only used on the test's own thread
        var count: UInt8 = 0
        func next() -> PairingToken { count += 1; return PairingToken(bytes: Array(repeating: count, count: 16))! }
    }

    @Test func withoutPairingALongPressRingsAndPairDoesNothing() {
        var m = machine(canPair: false)
        #expect(m.handle(.pairRequested, now: 0) == [])
        #expect(m.phase == .idle)
        let actions = m.handle(.press(ButtonPress(.doorbell, long: true)), now: 0)
        #expect(m.phase.name == "room")
        #expect(actions.contains { if case .openRoom = $0 { true } else { false } })
    }

    @Test func eachWindowHasAFreshTokenAndAPairingSpendsIt() {
        var m = machine(canPair: true)
        let opened = m.handle(.pairRequested, now: 0)
        guard case .pairing(let first) = m.phase, case .openPairing(let link) = opened.first else {
            Issue.record("no pairing window: \(m.phase)")
            return
        }
        #expect(link.url == "http://door.local:8080/?pair=intercom-home-0123#p=" + first.token.base64url)
        #expect(first.isOpen(at: 119_999) && !first.isOpen(at: 120_000))
        _ = m.handle(.timer(.pairing), now: 120_000)
        #expect(m.phase == .idle && m.spentToken == nil)
        _ = m.handle(.press(ButtonPress(.doorbell, long: true)), now: 130_000)
        guard case .pairing(let second) = m.phase else { Issue.record("no second window"); return }
        #expect(second.token != first.token)
        _ = m.handle(.pairedBrowser(name: "Anna's phone"), now: 131_000)
        #expect(m.spentToken == second.token)
        #expect(m.phase == .paired(name: "Anna's phone", until: 134_000))
        // A second pairing in the same window is impossible: the window is gone.
        #expect(m.handle(.pairedBrowser(name: "Bob"), now: 131_500) == [])
        _ = m.handle(.timer(.ending), now: 134_000)
        #expect(m.phase == .idle)
    }

    @Test func theTokenIsRedactedWhereverItIsPrinted() {
        let link = PairingLink(webBase: "http://door.local:8080/", homePeerID: "intercom-home-0123", token: Self.token)
        let secret = Self.token.base64url
        #expect(link.url.hasSuffix("#p=" + secret))
        for printed in ["\(link)", link.redacted, "\(Self.token)", "\(Screen.pairing(link: link.url, secondsLeft: 3))",
                        RoomLink.redact("open \(link.url) now, or http://x/?room=1#k=AAAA")] {
            #expect(!printed.contains(secret), "\(printed)")
        }
        #expect(RoomLink.redact("see \(link.url) now") == "see http://door.local:8080/?pair=intercom-home-0123#p=… now")
    }
}

@Suite struct PairingStoreTests {
    static let peer = "intercom-hh-00112233445566778899aabbccddeeff"

    @Test func aNewPairingHasAnIdAndA32ByteCredential() {
        let one = Pairing.make(name: "  Chrome on Android\u{7}  ", peerId: Self.peer, now: 5)
        let two = Pairing.make(name: "", peerId: Self.peer, now: 5)
        #expect(one.name == "Chrome on Android" && two.name == "Browser")
        #expect(one.credentialKey?.count == 32 && one.id.count == 16 && one.problem == nil)
        #expect(one.id != two.id && one.credential != two.credential)
        #expect(Pairing.make(name: String(repeating: "x", count: 90), peerId: Self.peer, now: 0).name.count == 40)
        #expect(!Pairing.isValidPeerID("-x") && !Pairing.isValidPeerID("a b") && Pairing.isValidPeerID(Self.peer))
    }

    @Test func pairingsSurviveARestartInAFileOnlyTheOwnerReads() throws {
        try withScratchDirectory("pairings") { directory in
            var store = PairingStore(stateDirectory: directory)
            #expect(store.pairings.isEmpty)
            let anna = Pairing.make(name: "Anna", peerId: Self.peer, now: 1)
            var bob = Pairing.make(name: "Bob", peerId: "intercom-hh-ffeeddccbbaa99887766554433221100", now: 2)
            try store.add(anna)
            try store.add(bob)
            bob.push = Pairing.Push(endpoint: "https://push.example/abc", p256dh: Base64URL.encode(Array(repeating: 4, count: 65)),
                                    auth: Base64URL.encode(Array(repeating: 1, count: 16)))
            bob.lastSeenAt = 9
            #expect(try store.update(bob))
            var info = stat()
            #expect(stat(store.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
            let again = PairingStore(stateDirectory: directory)
            #expect(again.pairings == [anna, bob])
            #expect(directoryEntries(directory) == ["pairings.json"])
        }
    }

    @Test func unpairByIdOrByAnUnambiguousName() throws {
        try withScratchDirectory("pairings") { directory in
            var store = PairingStore(stateDirectory: directory)
            let anna = Pairing.make(name: "Anna", peerId: Self.peer, now: 1)
            let phone1 = Pairing.make(name: "Phone", peerId: "intercom-hh-1", now: 2)
            let phone2 = Pairing.make(name: "Phone", peerId: "intercom-hh-2", now: 3)
            for p in [anna, phone1, phone2] { try store.add(p) }
            #expect(try store.find("Anna") == anna)
            #expect(try store.find(phone2.id) == phone2)
            #expect(throws: PairingStore.StoreError.self) { try store.find("Phone") }
            #expect(throws: PairingStore.StoreError.self) { try store.find("Nobody") }
            #expect(try store.remove(id: anna.id) == anna)
            #expect(try store.remove(id: anna.id) == nil)
            #expect(PairingStore(stateDirectory: directory).pairings == [phone1, phone2])
            // The same page pairing again replaces its old pairing.
            let phone1Again = Pairing.make(name: "Phone 1", peerId: "intercom-hh-1", now: 4)
            try store.add(phone1Again)
            #expect(store.pairings == [phone2, phone1Again])
        }
    }

    @Test func aDamagedFileIsSetAsideAndNeverCrashes() throws {
        try withScratchDirectory("pairings") { directory in
            let path = directory + "/pairings.json"
            try AtomicFile.write(Array("{not json".utf8), to: path, mode: 0o600)
            let broken = PairingStore(stateDirectory: directory, now: 77)
            #expect(broken.pairings.isEmpty)
            #expect(directoryEntries(directory) == ["pairings.json.bad-77"])
            #expect(AtomicFile.read(directory + "/pairings.json.bad-77") == Array("{not json".utf8))
        }
        try withScratchDirectory("pairings") { directory in
            let good = Pairing.make(name: "Anna", peerId: Self.peer, now: 1)
            let text = """
                [{"id":"\(good.id)","name":"Anna","peerId":"\(good.peerId)","credential":"\(good.credential)","createdAt":1},
                 {"id":"\(good.id)","name":"Copy","peerId":"intercom-hh-2","credential":"\(good.credential)","createdAt":1},
                 {"id":"00","name":"Short key","peerId":"intercom-hh-3","credential":"AAAA","createdAt":1},
                 {"id":"01","name":"Bad peer","peerId":"a b","credential":"\(good.credential)","createdAt":1},
                 {"id":"02","name":3},
                 "nonsense"]
                """
            try AtomicFile.write(Array(text.utf8), to: directory + "/pairings.json", mode: 0o600)
            let store = PairingStore(stateDirectory: directory, now: 78)
            #expect(store.pairings == [good])
            #expect(directoryEntries(directory) == ["pairings.json", "pairings.json.bad-78"])
            #expect(PairingStore(stateDirectory: directory).pairings == [good])
        }
    }
}
