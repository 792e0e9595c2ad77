import Testing
@testable import DoorCore

@Suite struct RoomLinkTests {
    let secret = RoomSecret(bytes: [0xfb, 0xff, 0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30, 0xd3, 0x8f, 0x41, 0x14])!

    @Test func theSecretIsOnlyInTheFragmentAndPrintsRedacted() {
        let link = RoomLink(webBase: "https://door.example/", code: "04321", secret: secret)
        #expect(link.url == "https://door.example/?room=04321#k=-_8AEIMQUYcgkosw049BFA")
        #expect(link.withoutSecret == "https://door.example/?room=04321")
        #expect("\(link)" == "https://door.example/?room=04321#k=…")
        #expect(String(reflecting: link) == "RoomLink(https://door.example/?room=04321#k=…)")
        #expect("\(secret)" == "k=…")
        #expect(!"\([link])".contains(secret.base64url))
        let screen = Screen.room(code: "04321", link: link.url, secondsLeft: 9)
        #expect("\(screen)" == "room(04321, https://door.example/?room=04321#k=…, 9 s)")
    }

    @Test func aTURNCredentialRidesInTheFragmentAndPrintsRedacted() {
        let turn = RoomTURN(expiry: 1_765_003_720, credential: "gJbLsDCm3B/wp+ivZPXaprdwkiI=")
        let link = RoomLink(webBase: "https://door.example", code: "04321", secret: secret, turn: turn)
        #expect(link.url == "https://door.example/?room=04321#k=-_8AEIMQUYcgkosw049BFA&t=1765003720.gJbLsDCm3B_wp-ivZPXaprdwkiI")
        #expect(link.withoutSecret == "https://door.example/?room=04321")
        #expect("\(link)" == "https://door.example/?room=04321#k=…&t=…")
        #expect(RoomLink.redact(link.url) == "https://door.example/?room=04321#k=…&t=…")
        #expect(!"\(turn)".contains("gJbL") && !String(reflecting: turn).contains("gJbL"))
    }

    @Test func aRoomKeepsItsTURNCredentialBetweenRendersAndARingMintsANewOne() {
        final class Counter: @unchecked Sendable { var value = 0 }
        let minted = Counter()
        var machine = CallStateMachine(makeRoomTURN: { lifetime in
            minted.value += 1
            return RoomTURN(expiry: Int(lifetime / 1000) * 10 + minted.value, credential: "c\(minted.value)==")
        })
        let first = machine.handle(.press(ButtonPress(.doorbell)), now: 0)
        let tick1 = machine.handle(.tick, now: 500)
        let tick2 = machine.handle(.tick, now: 900)
        let again = machine.handle(.press(ButtonPress(.doorbell)), now: 1000)
        guard case .openRoom(_, let opened)? = first.first, case .ringAgain(_, let rung)? = again.first,
              case .show(.room(_, let shown1, _))? = tick1.first, case .show(.room(_, let shown2, _))? = tick2.first
        else {
            Issue.record("no openRoom/ringAgain/room screens: \(first) \(tick1) \(tick2) \(again)")
            return
        }
        #expect(opened.turn == RoomTURN(expiry: 1201, credential: "c1=="))
        #expect(shown1 == opened.url && shown2 == opened.url)
        #expect(rung.secret == opened.secret && rung.turn == RoomTURN(expiry: 1202, credential: "c2=="))
        #expect(minted.value == 2)
    }

    @Test func redactReplacesEverySecretInAText() {
        #expect(RoomLink.redact("a http://x/?room=1#k=abc-_9 b #k=Z") == "a http://x/?room=1#k=… b #k=…")
        #expect(RoomLink.redact("nothing here") == "nothing here")
    }

    @Test func base64urlRoundTripsAndRejectsWhatNoEncoderWrites() {
        for count in 0..<40 {
            let bytes = (0..<count).map { UInt8(($0 * 37 + count) & 255) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.encode(Array("any carnal pleas".utf8)) == "YW55IGNhcm5hbCBwbGVhcw")
        #expect(Base64URL.decode("YW55+") == nil)      // standard alphabet
        #expect(Base64URL.decode("YW55IGNhcm5hbCBwbGVhcw==") == nil) // padding
        #expect(Base64URL.decode("YW4") != nil)
        #expect(Base64URL.decode("YW5z") != nil)
        #expect(Base64URL.decode("YW5=") == nil)
        #expect(Base64URL.decode("YW56B") == nil)      // a length no encoding has
        #expect(Base64URL.decode("YR") == nil)         // non-zero trailing bits
        #expect(RoomSecret(base64url: "-_8AEIMQUYcgkosw049BFA") == secret)
        #expect(RoomSecret(base64url: "-_8AEIMQUYcgkosw049B") == nil)
    }

    @Test func randomSecretsDifferAndHave128Bits() {
        let secrets = (0..<64).map { _ in RoomSecret.random() }
        #expect(Set(secrets.map(\.base64url)).count == 64)
        #expect(secrets.allSatisfy { $0.bytes.count == 16 && $0.base64url.count == 22 })
        // Every bit position takes both values somewhere (a stuck bit would show here).
        for bit in 0..<128 {
            let ones = secrets.filter { $0.bytes[bit / 8] >> (bit % 8) & 1 == 1 }.count
            #expect(ones > 0 && ones < 64, "bit \(bit) is \(ones)/64")
        }
    }

    @Test func aNewRoomHasANewSecretAndRingingAgainKeepsIt() {
        var machine = CallStateMachine()
        let first = machine.handle(.press(ButtonPress(.doorbell)), now: 0)
        let again = machine.handle(.press(ButtonPress(.doorbell)), now: 1000)
        _ = machine.handle(.hangUpRequested, now: 2000)
        _ = machine.handle(.timer(.ending), now: 5000)
        let second = machine.handle(.press(ButtonPress(.doorbell)), now: 6000)
        guard case .openRoom(_, let link1)? = first.first, case .ringAgain(_, let rung)? = again.first,
              case .openRoom(_, let link2)? = second.first else {
            Issue.record("no openRoom/ringAgain: \(first) \(again) \(second)")
            return
        }
        #expect(rung == link1)
        #expect(link1.secret != link2.secret)
    }
}

@Suite struct RateLimiterTests {
    @Test func allowsTheLimitPerWindowPerKey() {
        var limiter = RateLimiter<String>(limit: 3, windowMillis: 1000)
        var answers: [Bool] = []
        for offset in 0..<5 { answers.append(limiter.allow("a", now: 100 + Int64(offset))) }
        #expect(answers == [true, true, true, false, false])
        let otherKey = limiter.allow("b", now: 105)
        let stillFull = limiter.allow("a", now: 1099)
        let freed = limiter.allow("a", now: 1100)   // the first one leaves the window after 1000 ms
        #expect(otherKey && !stillFull && freed)
        #expect(limiter.refused == 3)
    }

    @Test func manyKeysStayBounded() {
        var limiter = RateLimiter<Int>(limit: 1, windowMillis: 60_000, maxKeys: 100)
        for key in 0..<10_000 { _ = limiter.allow(key, now: Int64(key)) }
        #expect(limiter.trackedKeys <= 100)
        // The newest key is remembered: a second event for it is refused.
        let got = limiter.allow(9_999, now: 10_000)
        #expect(!got)
    }
}
