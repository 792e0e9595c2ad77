import DoorCore
import Testing
@testable import Signaling

@Suite struct PeerJSMessageTests {
    @Test func decodesAnOfferFromAPeerJS15Browser() throws {
        let text = #"{"type":"OFFER","src":"page-1","dst":"intercom-12345","payload":{"sdp":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"},"type":"media","connectionId":"mc_abc123","metadata":{"client":"x"}}}"#
        let message = try PeerJSMessage.decode(text)
        #expect(message.type == .offer)
        #expect(message.src == "page-1")
        #expect(message.dst == "intercom-12345")
        let payload = try ConnectionPayload(message.payload)
        #expect(payload.type == .media)
        #expect(payload.connectionId == "mc_abc123")
        #expect(payload.sdp == SessionDescription(type: "offer", sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"))
        #expect(payload.metadata == ["client": "x"])
        #expect(payload.browser == nil)
    }

    @Test func readsEveryServerMessageType() throws {
        #expect(try PeerJSMessage.decode(#"{"type":"OPEN"}"#).type == .open)
        #expect(try PeerJSMessage.decode(#"{"type":"ID-TAKEN","payload":{"msg":"ID is taken"}}"#).type == .idTaken)
        let error = try PeerJSMessage.decode(#"{"type":"ERROR","payload":{"msg":"Invalid key provided"}}"#)
        #expect(error.payload?["msg"]?.stringValue == "Invalid key provided")
        let expire = try PeerJSMessage.decode(#"{"type":"EXPIRE","src":"gone","dst":"me"}"#)
        #expect(expire.type == .expire && expire.src == "gone")
        #expect(try PeerJSMessage.decode(#"{"type":"LEAVE","src":"a","dst":"b"}"#).type == .leave)
    }

    @Test func rejectsMalformedFrames() {
        #expect(throws: SignalingError.self) { try PeerJSMessage.decode("not json") }
        #expect(throws: SignalingError.self) { try PeerJSMessage.decode("[1,2]") }
        #expect(throws: SignalingError.self) { try PeerJSMessage.decode(#"{"src":"a"}"#) }
        #expect(throws: SignalingError.self) { try PeerJSMessage.decode(#"{"type":"HELLO"}"#) }
        #expect(throws: SignalingError.self) { try PeerJSMessage.decode(#"{"type":"OFFER","src":5}"#) }
        // A payload whose sdp is a bare string (not {type, sdp}) is not a PeerJS offer.
        #expect(throws: SignalingError.self) {
            try ConnectionPayload(["sdp": "v=0", "type": "media", "connectionId": "mc_1"])
        }
    }

    @Test func encodesAnAnswerTheWayPeerJSReadsIt() throws {
        let payload = ConnectionPayload(sdp: SessionDescription(type: "answer", sdp: "v=0\r\n"), type: .media,
                                        connectionId: "mc_abc")
        let text = PeerJSMessage(type: .answer, dst: "page-1", payload: payload.json).encoded()
        #expect(text == #"{"dst":"page-1","payload":{"connectionId":"mc_abc","sdp":{"sdp":"v=0\r\n","type":"answer"},"type":"media"},"type":"ANSWER"}"#)
        let back = try PeerJSMessage.decode(text)
        #expect(try ConnectionPayload(back.payload) == payload)
    }

    @Test func candidatesRoundTripWithAllFields() throws {
        let candidate = CandidatePayload(candidate: "candidate:1 1 UDP 2015363327 10.200.0.1 43839 typ host",
                                         sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "abcd", type: .media,
                                         connectionId: "mc_x")
        let text = PeerJSMessage(type: .candidate, dst: "p", payload: candidate.json).encoded()
        #expect(text.contains(#""sdpMLineIndex":0"#))
        let back = try CandidatePayload(try PeerJSMessage.decode(text).payload)
        #expect(back == candidate)
        #expect(throws: SignalingError.self) {
            try CandidatePayload(["candidate": ["candidate": "x", "sdpMLineIndex": -1], "type": "media", "connectionId": "c"])
        }
    }

    @Test func heartbeatIsExactlyWhatTheServerCounts() {
        #expect(PeerJSMessage(type: .heartbeat).encoded() == #"{"type":"HEARTBEAT"}"#)
    }

    @Test(arguments: [("intercom-12345", true), ("a", true), ("a b_c-d", true), ("-a", false), ("a-", false),
                      ("a--b", false), ("", false), ("alice!", false), ("é", false)])
    func peerIDRule(id: String, valid: Bool) {
        #expect(isValidPeerID(id) == valid)
    }

    @Test func parsesSignalingURLs() throws {
        #expect(try WebSocketURL(parsing: "wss://0.peerjs.com/") ==
                WebSocketURL(secure: true, host: "0.peerjs.com", port: 443, path: "/"))
        #expect(try WebSocketURL(parsing: "ws://127.0.0.1:9000/myapp") ==
                WebSocketURL(secure: false, host: "127.0.0.1", port: 9000, path: "/myapp/"))
        // The URL from PeerServer's docs names the endpoint itself: the same server as without /peerjs.
        #expect(try WebSocketURL(parsing: "ws://host:9000/peerjs") == WebSocketURL(secure: false, host: "host", port: 9000, path: "/"))
        #expect(try WebSocketURL(parsing: "ws://host:9000/peerjs/") == WebSocketURL(secure: false, host: "host", port: 9000, path: "/"))
        #expect(try WebSocketURL(parsing: "wss://host/myapp/peerjs") == WebSocketURL(secure: true, host: "host", port: 443, path: "/myapp/"))
        #expect(try WebSocketURL(parsing: "ws://host:9000/peerjsapp") ==
                WebSocketURL(secure: false, host: "host", port: 9000, path: "/peerjsapp/"))
        do {
            _ = try WebSocketURL(parsing: "ws://host:9000/peerjs?key=peerjs")
            Issue.record("a URL with a query was taken")
        } catch {
            #expect(error.description.contains("ws[s]://host[:port][/path]"), "\(error)")
        }
        #expect(throws: SignalingError.self) { try WebSocketURL(parsing: "ftp://x") }
        #expect(throws: SignalingError.self) { try WebSocketURL(parsing: "ws://x:0/") }
    }
}
