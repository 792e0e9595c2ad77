import DoorCore
import Testing
@testable import ConfigFile

private func error(_ yaml: String) -> ConfigurationError? {
    do {
        _ = try ConfigFile.parse(yaml, file: "test.yaml")
        return nil
    } catch {
        return error
    }
}

@Suite struct ICEConfigTests {
    @Test func stunAndBothKindsOfTURNRead() throws {
        let c = try ConfigFile.parse("""
            ice:
              stun_servers: ["stun:stun.example.net:3478", "stun:[2001:db8::1]"]
              turn_servers:
                - url: turn:turn.example.net:3478
                  shared_secret: north-door-turn-secret-0001
                  lifetime: 600
                - url: "turn:turn.example.net:443?transport=tcp"
                  username: door
                  credential: hunter2
              connect_timeout: 15
            """)
        #expect(c.ice.stunServers == ["stun:stun.example.net:3478", "stun:[2001:db8::1]"])
        #expect(c.ice.turnServers == [
            .init(url: "turn:turn.example.net:3478", auth: .sharedSecret("north-door-turn-secret-0001", lifetimeSeconds: 600)),
            .init(url: "turn:turn.example.net:443?transport=tcp", auth: .fixed(username: "door", credential: "hunter2")),
        ])
        #expect(c.ice.connectTimeoutSeconds == 15)
        #expect(try ConfigFile.parse("ice:\n").ice == Configuration.ICE())
        // A shared secret's lifetime defaults to an hour.
        let defaulted = try ConfigFile.parse("ice:\n  turn_servers:\n    - {url: 'turns:t.example', shared_secret: 0123456789abcdef}\n")
        #expect(defaulted.ice.turnServers.first?.auth == .sharedSecret("0123456789abcdef", lifetimeSeconds: 3600))
    }

    @Test func mistakesNameTheKeyAndLine() throws {
        let cases: [(String, String, Int)] = [
            ("ice:\n  stun_servers: stun:x\n", "ice.stun_servers", 2),
            ("ice:\n  stun_servers:\n    - turn:x:3478\n", "ice.stun_servers[0]", 3),
            ("ice:\n  stun_servers:\n    - stun:x:99999\n", "ice.stun_servers[0]", 3),
            ("ice:\n  turn_servers:\n    - url: http://x\n      username: a\n      credential: b\n", "ice.turn_servers[0].url", 3),
            ("ice:\n  turn_servers:\n    - url: turn:x?transport=sctp\n      username: a\n      credential: b\n",
             "ice.turn_servers[0].url", 3),
            ("ice:\n  turn_servers:\n    - url: turns:x?transport=udp\n      username: a\n      credential: b\n",
             "ice.turn_servers[0].url", 3),
            ("ice:\n  turn_servers:\n    - url: turn:x\n", "ice.turn_servers[0].username", 3),
            ("ice:\n  turn_servers:\n    - url: turn:x\n      username: a\n", "ice.turn_servers[0].credential", 4),
            ("ice:\n  turn_servers:\n    - url: turn:x\n      shared_secret: short\n", "ice.turn_servers[0].shared_secret", 4),
            ("ice:\n  turn_servers:\n    - url: turn:x\n      shared_secret: 0123456789abcdef\n      username: a\n",
             "ice.turn_servers[0].username", 5),
            ("ice:\n  turn_servers:\n    - url: turn:x\n      shared_secret: 0123456789abcdef\n      lifetime: 10\n",
             "ice.turn_servers[0].lifetime", 5),
            ("ice:\n  turn_servers:\n    - url: turn:x\n      username: a\n      credential: b\n      lifetime: 600\n",
             "ice.turn_servers[0].lifetime", 6),
            ("ice:\n  turn_servers:\n    - url: turn:x\n      secret: 0123456789abcdef\n", "ice.turn_servers[0].secret", 4),
            ("ice:\n  connect_timeout: 1\n", "ice.connect_timeout", 2),
        ]
        for (yaml, key, line) in cases {
            let found = try #require(error(yaml), "\(yaml)")
            #expect(found.key == key && found.line == line, "\(yaml) → \(found)")
        }
    }
}
