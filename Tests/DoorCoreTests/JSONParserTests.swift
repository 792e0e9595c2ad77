import FoundationEssentials
import Testing
@testable import DoorCore

@Suite struct JSONParserTests {
    @Test func readsEveryKindAsJSONDecoderDoes() throws {
        let texts = [
            #"{"a":[1,-2.5e3,true,false,null,"x"],"b":{"c":"\u00e9\n\"\\\/"},"d":[]}"#,
            #"  [ 0 , 1.25 , -0 , 1E2 , "\ud83d\ude00" ]  "#,
            #""plain""#, "42", "true", "null", #"{"k":{}}"#,
        ]
        for text in texts {
            let expected = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            #expect(try JSONParser.parse(Array(text.utf8)) == expected, "\(text)")
        }
    }

    @Test func refusesWhatIsNotJSON() {
        for text in ["", "[", "{\"a\":}", "[1,]", "tru", "\"abc", "01", "1.", "-", "[1] x", "{\"a\" 1}", "\"\u{01}\"",
                     "\"\\q\"", "\"\\u12\"", "NaN", "1e999"] {
            #expect(throws: JSONParser.Failure.self, "\(text)") { try JSONParser.parse(Array(text.utf8)) }
        }
    }

    @Test func nestingStopsAtTheLimitWithoutRecursingFurther() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(deep.utf8), maxDepth: 32) }
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect((try? JSONParser.parse(Array(ok.utf8), maxDepth: 32)) != nil)
    }

    @Test func membersLeavesValuesUnreadButChecked() throws {
        let text = Array(#"{"type":"OFFER","payload":{"x":[1,{"y":null}]},"dst":"d"}"#.utf8)
        let members = try JSONParser.members(text)
        #expect(members.map(\.key) == ["type", "payload", "dst"])
        #expect(String(decoding: text[members[1].value], as: UTF8.self) == #"{"x":[1,{"y":null}]}"#)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.members(Array(#"{"payload":[1,}"#.utf8)) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.members(Array("[1]".utf8)) }
    }

    /// The shape that cost 58–132 ms per 64 KiB frame through JSONDecoder: printed, not asserted (no timing
    /// assertions in unit tests; `make bench` and suites/hostile measure it under load).
    @Test func wideFramesCostLinearTime() throws {
        let frame = Array(("[" + Array(repeating: "{}", count: 21_000).joined(separator: ",") + "]").utf8)
        let clock = ContinuousClock()
        let started = clock.now
        for _ in 0..<10 { _ = try JSONParser.parse(frame) }
        let parser = (clock.now - started) / 10
        let before = clock.now
        _ = try JSONDecoder().decode(JSONValue.self, from: Data(frame))
        print("\(frame.count)-byte [{},{},…] frame: JSONParser \(parser), JSONDecoder (the old way) \(clock.now - before)")
    }
}
