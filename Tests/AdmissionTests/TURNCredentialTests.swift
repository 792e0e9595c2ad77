import DoorCore
import Testing
@testable import Admission

/// Expected credentials computed outside Swift, with Python's standard library:
/// `base64.b64encode(hmac.new(secret, username, hashlib.sha1).digest())`.
@Suite struct TURNCredentialTests {
    @Test func credentialsMatchIndependentlyComputedVectors() {
        #expect(TURNCredential.credential(secret: "north-door-turn-secret-0001", username: "1765000000:door")
                == "1xzia5jlYl1zbNln4Wuw7wzYDT0=")
        #expect(TURNCredential.credential(secret: "s3cr3t-with/slash+plus==", username: "4102444800:page")
                == "gJbLsDCm3B/wp+ivZPXaprdwkiI=")
        let minted = TURNCredential.mint(secret: "north-door-turn-secret-0001", name: "door", expiry: 1_765_000_000)
        #expect(minted.username == "1765000000:door" && minted.credential == "1xzia5jlYl1zbNln4Wuw7wzYDT0=")
    }

    @Test func aRoomCredentialLastsTheRoomThenTheLifetimeAndComesFromTheFirstSharedSecret() {
        var ice = Configuration.ICE()
        #expect(TURNCredential.room(ice, now: 1_765_000_000, roomLifetimeSeconds: 120) == nil)
        ice.turnServers = [
            .init(url: "turn:t.example:443?transport=tcp", auth: .fixed(username: "fixed", credential: "pw")),
            .init(url: "turn:t.example:3478", auth: .sharedSecret("north-door-turn-secret-0001", lifetimeSeconds: 3600)),
            .init(url: "turn:u.example:3478", auth: .sharedSecret("another-secret", lifetimeSeconds: 60)),
        ]
        let room = TURNCredential.room(ice, now: 1_765_000_000, roomLifetimeSeconds: 120)
        // Python: base64(hmac(b'north-door-turn-secret-0001', b'1765003720:room', sha1))
        #expect(room == RoomTURN(expiry: 1_765_003_720, credential: "8tlPPCjMG0vncznauRIymX7IIvM="))
        #expect(room?.username == "1765003720:room")
        #expect(room?.fragmentValue == "1765003720.8tlPPCjMG0vncznauRIymX7IIvM")
    }

    @Test func base64PadsLikeRFC4648() {
        #expect(TURNCredential.base64(Array("f".utf8)) == "Zg==")
        #expect(TURNCredential.base64(Array("fo".utf8)) == "Zm8=")
        #expect(TURNCredential.base64(Array("foobar".utf8)) == "Zm9vYmFy")
    }

    @Test func serversMintFromTheSecretAndNeverCarryIt() {
        var ice = Configuration.ICE()
        ice.stunServers = ["stun:stun.example:3478"]
        ice.turnServers = [
            .init(url: "turn:t.example:3478", auth: .sharedSecret("north-door-turn-secret-0001", lifetimeSeconds: 600)),
            .init(url: "turn:t.example:443?transport=tcp", auth: .fixed(username: "fixed", credential: "pw")),
        ]
        let servers = TURNCredential.servers(ice, name: "door", now: 1_764_999_400)
        #expect(servers == [
            ICEServer(url: "stun:stun.example:3478"),
            ICEServer(url: "turn:t.example:3478", username: "1765000000:door", credential: "1xzia5jlYl1zbNln4Wuw7wzYDT0="),
            ICEServer(url: "turn:t.example:443?transport=tcp", username: "fixed", credential: "pw"),
        ])
        // A room's credentials die with the room, before the server's lifetime when the room is shorter.
        let room = TURNCredential.servers(ice, name: "room", now: 1_764_999_400, notAfter: 1_764_999_520)
        #expect(room[1].username == "1764999520:room")
        let text = servers.map { $0.jsonValue }.description
        #expect(!text.contains("north-door-turn-secret-0001"))
    }

    @Test func webrtcbinURIsPercentEncodeTheUserinfo() {
        let relay = ICEServer(url: "turn:10.0.0.1:3478", username: "1765000000:door", credential: "gJbLsDCm3B/wp+ivZPXaprdwkiI=")
        #expect(relay.gstreamerURI == "turn://1765000000%3Adoor:gJbLsDCm3B%2Fwp%2BivZPXaprdwkiI%3D@10.0.0.1:3478")
        let tcp = ICEServer(url: "turn:relay.example?transport=tcp", username: "u", credential: "p")
        #expect(tcp.gstreamerURI == "turn://u:p@relay.example:3478?transport=tcp")
        #expect(ICEServer(url: "turns:relay.example", username: "u", credential: "p").gstreamerURI
                == "turns://u:p@relay.example:5349")
        #expect(ICEServer(url: "stun:stun.example").gstreamerURI == "stun://stun.example:3478")
        #expect(ICEServer(url: "http://nope").gstreamerURI == nil)
    }
}
