import FoundationEssentials
import DoorCore
import Testing
@testable import Notify

private let ring = RingNotice(doorName: "Tür vorne", code: "04217", link: "https://door.example/?room=04217",
                              timeMillis: 1_795_615_304_312)

private func json(_ request: HTTPRequest) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(request.body))
}

@Suite struct HTTPRequestTests {
    @Test func aWebhookGetsTheRingAsJSONWithItsToken() throws {
        let target = Configuration.NotifyTarget(kind: .webhook, url: "https://hooks.example/ring?x=1", token: "s3cret")
        let request = HTTPRequest(ring: ring, target: target)
        #expect(request.url == "https://hooks.example/ring?x=1")
        #expect(request.contentType == "application/json")
        #expect(request.headers.map(\.name) == ["Authorization"] && request.headers.map(\.value) == ["Bearer s3cret"])
        let body = try json(request)
        #expect(body["event"] == "ring" && body["door"] == "Tür vorne" && body["code"] == "04217")
        #expect(body["link"]?.stringValue == ring.link)
        #expect(body["time"] == "2026-11-25T14:01:44Z")
        #expect(body["timestamp"]?.numberValue == 1_795_615_304_312)
    }

    @Test func homeAssistantIsPostedToItsWebhookID() throws {
        let target = Configuration.NotifyTarget(kind: .homeassistant, url: "http://ha.local:8123", webhookID: "door-ring")
        let request = HTTPRequest(ring: ring, target: target)
        #expect(request.url == "http://ha.local:8123/api/webhook/door-ring")
        #expect(request.headers.isEmpty)
        #expect(try json(request)["link"]?.stringValue == ring.link)
    }

    @Test func ntfyIsPublishedAsJSONToTheServerRootWithTheLinkAsClickAndAction() throws {
        let target = Configuration.NotifyTarget(kind: .ntfy, url: "https://ntfy.sh/door-7f3k", priority: 5)
        let request = HTTPRequest(ring: ring, target: target)
        #expect(request.url == "https://ntfy.sh/")
        let body = try json(request)
        #expect(body["topic"] == "door-7f3k")
        #expect(body["click"]?.stringValue == ring.link)
        #expect(body["priority"] == 5)
        #expect(body["title"]?.stringValue?.hasPrefix("Tür vorne") == true)
        #expect(body["actions"] == [["action": "view", "label": "Answer", "url": .string(ring.link), "clear": true]])
        let noPriority = HTTPRequest(ring: ring, target: .init(kind: .ntfy, url: "http://10.0.0.2:8090/t"))
        #expect(noPriority.url == "http://10.0.0.2:8090/")
        #expect(try json(noPriority)["priority"] == nil)
    }

    @Test func ntfyGetsThePictureAsAnAttachmentWithTheMessageInHeaders() throws {
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9]
        let target = Configuration.NotifyTarget(kind: .ntfy, url: "https://ntfy.sh/door-7f3k", token: "tk_x", priority: 4)
        let request = HTTPRequest(ring: ring, target: target, picture: jpeg)
        #expect(request.method == "PUT" && request.url == "https://ntfy.sh/door-7f3k")
        #expect(request.contentType == "image/jpeg" && request.body == jpeg)
        let headers = Dictionary(request.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(headers["Authorization"] == "Bearer tk_x")
        #expect(headers["Click"] == ring.link && headers["Priority"] == "4" && headers["Filename"] == "ring-04217.jpg")
        #expect(headers["Actions"] == "view, Answer, \(ring.link), clear=true")
        // "Tür vorne" is not ASCII: an RFC 2047 encoded word, which decodes back to the title.
        let title = try #require(headers["Title"])
        #expect(title.hasPrefix("=?UTF-8?B?") && title.hasSuffix("?="))
        let encoded = String(title.dropFirst("=?UTF-8?B?".count).dropLast(2))
        #expect(Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } == "Tür vorne: someone is at the door")
        #expect(request.headers.allSatisfy { $0.value.allSatisfy(\.isASCII) })
        // Without a picture: the JSON publish as before.
        #expect(HTTPRequest(ring: ring, target: target).method == "POST")
    }

    @Test func webhooksGetThePictureInlineAsBase64() throws {
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xD9]
        for target in [Configuration.NotifyTarget(kind: .webhook, url: "https://hooks.example/ring"),
                       .init(kind: .homeassistant, url: "http://ha.local:8123", webhookID: "door-ring")] {
            let request = HTTPRequest(ring: ring, target: target, picture: jpeg)
            #expect(request.method == "POST" && request.contentType == "application/json")
            let body = try json(request)
            #expect(body["picture"]?["type"] == "image/jpeg")
            #expect(body["picture"]?["base64"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init) == jpeg)
            #expect(body["link"]?.stringValue == ring.link)
            #expect(try json(HTTPRequest(ring: ring, target: target))["picture"] == nil)
        }
    }

    @Test func logLinesSeeOnlySchemeAndHost() {
        #expect(HTTPRequest.loggableOrigin("https://ntfy.sh/door-7f3k") == "https://ntfy.sh")
        #expect(HTTPRequest.loggableOrigin("http://user:pw@ha.local:8123/api/webhook/x?y#z") == "http://ha.local:8123")
        #expect(HTTPRequest.loggableOrigin("nonsense") == "(bad URL)")
    }

    @Test func ringTimesAreUTC() {
        func text(_ millis: Int64) -> String {
            RingNotice(doorName: "", code: "", link: "", timeMillis: millis).timeText
        }
        #expect(text(0) == "1970-01-01T00:00:00Z")
        #expect(text(951_782_400_000) == "2000-02-29T00:00:00Z")
        #expect(text(4_107_542_399_999) == "2100-02-28T23:59:59Z")
        #expect(text(-1) == "1969-12-31T23:59:59Z")
    }
}

@Suite struct BackoffTests {
    @Test func doublesUpToTheMaximum() {
        let backoff = Backoff(initialMillis: 500, maximumMillis: 30_000)
        #expect((1...8).map { backoff.delayMillis(afterAttempt: $0) } == [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000])
        #expect(backoff.delayMillis(afterAttempt: 1000) == 30_000)
    }

    @Test func onlyTroubleThatMayPassIsRetried() {
        #expect(NotifyError(.transport, "connection refused").isRetryable)
        #expect(NotifyError(.status, "HTTP 503", status: 503).isRetryable)
        #expect(NotifyError(.status, "HTTP 429", status: 429).isRetryable)
        #expect(!NotifyError(.status, "HTTP 404", status: 404).isRetryable)
        #expect(!NotifyError(.status, "HTTP 401", status: 401).isRetryable)
        #expect(!NotifyError(.cancelled, "").isRetryable)
    }
}
