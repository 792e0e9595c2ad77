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

@Suite struct NotifyConfigTests {
    @Test func everyKindOfTargetReads() throws {
        let c = try ConfigFile.parse("""
            notify:
              ca_file: /etc/intercom/home-ca.pem
              targets:
                - type: webhook
                  url: https://hooks.example/ring
                  token: abc123
                - { type: ntfy, url: "https://ntfy.sh/door-7f3k", priority: 4 }
                - type: homeassistant
                  url: http://homeassistant.local:8123/
                  webhook_id: intercom-ring
            """)
        #expect(c.notify.caFile == "/etc/intercom/home-ca.pem")
        #expect(c.notify.targets == [
            .init(kind: .webhook, url: "https://hooks.example/ring", token: "abc123"),
            .init(kind: .ntfy, url: "https://ntfy.sh/door-7f3k", priority: 4),
            .init(kind: .homeassistant, url: "http://homeassistant.local:8123", webhookID: "intercom-ring"),
        ])
        #expect(try ConfigFile.parse("notify:\n  targets: []\n").notify.targets.isEmpty)
        #expect(try ConfigFile.parse("notify:\n").notify == Configuration.Notify())
    }

    @Test func theRingPictureIsOnUnlessTurnedOff() throws {
        #expect(Configuration.Notify().picture)
        #expect(try ConfigFile.parse("notify:\n  picture: false\n").notify.picture == false)
        let wrong = try #require(error("notify:\n  picture: sometimes\n"))
        #expect(wrong.key == "notify.picture" && wrong.code == .wrongType && wrong.line == 2)
        #expect(Configuration.Notify().pictureWaitMillis == 600)
        #expect(try ConfigFile.parse("notify:\n  picture_wait_ms: 1500\n").notify.pictureWaitMillis == 1500)
        #expect(error("notify:\n  picture_wait_ms: 9000\n")?.key == "notify.picture_wait_ms")
    }

    @Test func mistakesNameTheTargetKeyAndLine() throws {
        let noURL = try #require(error("notify:\n  targets:\n    - type: webhook\n"))
        #expect(noURL.key == "notify.targets[0].url" && noURL.line == 3)
        let kind = try #require(error("notify:\n  targets:\n    - type: webhook\n      url: http://a/\n    - type: slack\n      url: http://b/\n"))
        #expect(kind.key == "notify.targets[1].type" && kind.line == 5 && kind.message.contains("ntfy"))
        let topic = try #require(error("notify:\n  targets:\n    - type: ntfy\n      url: https://ntfy.sh/\n"))
        #expect(topic.key == "notify.targets[0].url" && topic.message.contains("topic"))
        let id = try #require(error("notify:\n  targets:\n    - type: homeassistant\n      url: http://ha:8123\n"))
        #expect(id.key == "notify.targets[0].webhook_id")
        let misplaced = try #require(error("notify:\n  targets:\n    - type: webhook\n      url: http://a/\n      priority: 3\n"))
        #expect(misplaced.key == "notify.targets[0].priority" && misplaced.line == 5)
        #expect(error("notify:\n  targets:\n    - type: webhook\n      url: ftp://a/\n")?.key == "notify.targets[0].url")
        #expect(error("notify:\n  targets:\n    - type: webhook\n      url: http://a/#x\n")?.key == "notify.targets[0].url")
        #expect(error("notify:\n  targets:\n    type: webhook\n")?.code == .wrongType)
        #expect(error("notify:\n  targets:\n    - type: ntfy\n      url: https://ntfy.sh/t\n      priority: 9\n")?.code == .badValue)
        #expect(error("notify:\n  ca_file: ca.pem\n")?.key == "notify.ca_file")
        #expect(error("notify:\n  targets:\n    - type: webhook\n      url: http://a/\n      tokn: x\n")?.code == .unknownKey)
    }
}
