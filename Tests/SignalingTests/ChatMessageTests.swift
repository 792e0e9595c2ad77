import DoorCore
import Testing
@testable import Signaling

@Suite struct ChatMessageTests {
    @Test func takesAChatMapFromThePage() {
        let value = DataValue.object([("t", "chat"), ("text", "Parcel for flat 3")])
        #expect(ChatMessage.parse(value) == .success(.chat("Parcel for flat 3")))
    }

    @Test func refusesWhatIsNotChat() {
        for value: DataValue in [.string("hello"), .object([("t", "status"), ("muted", .bool(true))]),
                                 .object([("t", "chat")]), .object([("t", "chat"), ("text", .int(3))]),
                                 .object([("t", "chat"), ("text", "  \n ")]), .array(["t", "chat"])] {
            #expect(ChatMessage.parse(value) == .failure(.notChat), "\(value)")
        }
    }

    /// 1000 characters pass; 1001 are refused whole, counted in characters, not bytes.
    @Test func capsTheTextInCharacters() {
        let most = String(repeating: "é", count: ChatMessage.maxTextCharacters)
        #expect(ChatMessage.parse(.object([("t", "chat"), ("text", .string(most))])) == .success(.chat(most)))
        let over = most + "!"
        #expect(ChatMessage.parse(.object([("t", "chat"), ("text", .string(over))])) == .failure(.tooLong(characters: 1001)))
    }

    /// What the door sends is what the page reads: BinaryPack maps with `t` first, through the codec and back.
    @Test func sendsMapsThePageUnderstands() throws {
        var codec = DataChannelCodec(serialization: .binary)
        let expected: [(ChatMessage, DataValue)] = [
            (.chat("hi"), .object([("t", "chat"), ("text", "hi")])),
            (.status(muted: true), .object([("t", "status"), ("muted", .bool(true))])),
            (.notice("Not delivered"), .object([("t", "status"), ("text", "Not delivered")])),
        ]
        for (message, value) in expected {
            #expect(message.value == value)
            let frames = try codec.frames(for: message.value)
            #expect(frames == [.binary(BinaryPack.encode(value))])
            #expect(try codec.receive(frames[0]) == .message(value))
        }
        // A 1.4 peer on json gets text frames; a 1.5 peer binary ones.
        var old = DataChannelCodec(serialization: .json, jsonAsText: true)
        #expect(try old.frames(for: ChatMessage.chat("hi").value) == [.text(#"{"t":"chat","text":"hi"}"#)])
    }

    /// `raw` carries only strings and bytes: there a message is its map's JSON text, both ways.
    @Test func rawConnectionsCarryTheJSONText() throws {
        var codec = DataChannelCodec(serialization: .raw)
        let frames = try codec.frames(for: ChatMessage.chat("Grüße 👋").value(for: .raw))
        #expect(frames == [.text(#"{"t":"chat","text":"Grüße 👋"}"#)])
        guard case .message(let value)? = try codec.receive(frames[0]) else { Issue.record("no message"); return }
        #expect(ChatMessage.parse(value, on: .raw) == .success(.chat("Grüße 👋")))
        #expect(ChatMessage.parse(.string("Grüße 👋"), on: .raw) == .failure(.notChat))
        #expect(ChatMessage.parse(.binary(Array(#"{"t":"chat","text":"hi"}"#.utf8)), on: .raw) == .failure(.notChat))
        // Elsewhere a string is not a message, even one holding JSON.
        #expect(ChatMessage.parse(.string(#"{"t":"chat","text":"hi"}"#), on: .binary) == .failure(.notChat))
        #expect(ChatMessage.status(muted: true).value(for: .json) == ChatMessage.status(muted: true).value)
    }
}
