import DoorCore
import Testing
@testable import Signaling

@Suite struct DataChannelCodecTests {
    let chat = DataValue.object([("t", "chat"), ("text", "hello door")])

    @Test func binaryCarriesOneBinaryPackValuePerMessage() throws {
        var codec = DataChannelCodec(serialization: .binary)
        let frames = try codec.frames(for: chat)
        #expect(frames == [.binary(BinaryPack.encode(chat))])
        #expect(try codec.receive(frames[0]) == .message(chat))
        // binary-utf8 is the same bytes.
        var legacy = DataChannelCodec(serialization: .binaryUTF8)
        #expect(try legacy.frames(for: chat) == frames)
    }

    /// 40 000 bytes of raw data pack to 40 005 bytes: three chunk maps of ≤16 300 bytes each, keys in
    /// the order `__peerData, n, data, total`, ids counting from 1 per connection.
    @Test func chunksLargeValuesAsPeerJSDoes() throws {
        var sender = DataChannelCodec(serialization: .binary)
        let payload = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let frames = try sender.frames(for: .binary(payload))
        #expect(frames.count == 3)
        var pieces: [UInt8] = []
        for (n, frame) in frames.enumerated() {
            let bytes = try #require(binaryBytes(frame), "chunk \(n) is not a binary message")
            let map = try BinaryPack.decode(bytes)
            guard case .map(let entries) = map else { throw Failure("chunk \(n) is not a map: \(map)") }
            #expect(entries.map(\.key) == ["__peerData", "n", "data", "total"])
            #expect(map["__peerData"] == .int(1))
            #expect(map["n"] == .int(Int64(n)))
            #expect(map["total"] == .int(3))
            guard case .binary(let piece)? = map["data"] else { throw Failure("chunk \(n) has no binary data") }
            #expect(piece.count <= BinaryPackChunker.chunkedMTU)
            pieces += piece
            // The exact header of the first chunk: 84, "__peerData", 1, "n", 0, "data" as raw of 16 300 bytes.
            if n == 0 {
                #expect(Array(bytes.prefix(21)) == hex("84 ba 5f 5f 70 65 65 72 44 61 74 61 01 b1 6e 00 b4 64 61 74 61")
                        && Array(bytes[21..<24]) == hex("da 3f ac"))
            }
        }
        #expect(pieces == BinaryPack.encode(.binary(payload)))
        // The next large message gets id 2.
        let second = try sender.frames(for: .binary(payload))
        let secondBytes = try #require(second.first.flatMap(binaryBytes), "the second message has no binary chunk")
        #expect(try BinaryPack.decode(secondBytes)["__peerData"] == .int(2))

        // Reassembly in any order.
        var receiver = DataChannelCodec(serialization: .binary)
        #expect(try receiver.receive(frames[2]) == nil)
        #expect(try receiver.receive(frames[0]) == nil)
        #expect(try receiver.receive(frames[1]) == .message(.binary(payload)))
    }

    @Test func exactlyTheMTUGoesWhole() throws {
        var codec = DataChannelCodec(serialization: .binary)
        // raw header da xx xx + 16 297 bytes = 16 300 packed bytes: not chunked; one more byte is.
        #expect(try codec.frames(for: .binary([UInt8](repeating: 1, count: 16_297))).count == 1)
        #expect(try codec.frames(for: .binary([UInt8](repeating: 1, count: 16_298))).count == 2)
    }

    @Test func controlMessagesAreNotData() throws {
        var codec = DataChannelCodec(serialization: .binary)
        let close = DataValue.object([("__peerData", .object([("type", "close")]))])
        #expect(try codec.receive(.binary(BinaryPack.encode(close))) == .close)
        #expect(codec.closeFrames() == [.binary(BinaryPack.encode(close))])
        // A falsy __peerData is ordinary data (JS checks truthiness).
        let falsy = DataValue.object([("__peerData", .int(0)), ("x", .int(1))])
        #expect(try codec.receive(.binary(BinaryPack.encode(falsy))) == .message(falsy))
        // A truthy control value we do not know is swallowed, not delivered.
        let unknown = DataValue.object([("__peerData", .object([("type", "ping")]))])
        #expect(try codec.receive(.binary(BinaryPack.encode(unknown))) == nil)
        var json = DataChannelCodec(serialization: .json)
        #expect(try json.receive(.binary(Array(#"{"__peerData":{"type":"close"}}"#.utf8))) == .close)
    }

    @Test func pendingChunksAreBounded() throws {
        var limits = DataChannelCodec.Limits()
        limits.chunks.maxPendingMessages = 2
        limits.chunks.maxMessageBytes = 40_000
        var codec = DataChannelCodec(serialization: .binary, limits: limits)
        func chunk(_ id: Int64, _ n: Int64, _ total: Int64, bytes: Int = 10) -> DataChannelCodec.Frame {
            .binary(BinaryPack.encode(.object([("__peerData", .int(id)), ("n", .int(n)),
                                               ("data", .binary([UInt8](repeating: 0xc0, count: bytes))),
                                               ("total", .int(total))])))
        }
        // More pieces than the largest message needs.
        #expect(throws: SignalingError.self) { try codec.receive(chunk(1, 0, 1_000_000)) }
        #expect(throws: SignalingError.self) { try codec.receive(chunk(1, 5, 3)) }
        #expect(throws: SignalingError.self) { try codec.receive(chunk(1, -1, 3)) }
        // Three messages started, only two kept: the oldest is gone, so its last piece completes nothing.
        #expect(try codec.receive(chunk(10, 0, 2)) == nil)
        #expect(try codec.receive(chunk(11, 0, 2)) == nil)
        #expect(try codec.receive(chunk(12, 0, 2)) == nil)
        #expect(try codec.receive(chunk(10, 1, 2)) == nil)
        // That late piece started message 10 afresh and pushed out 11; 12 is still there. Its pieces are ten
        // 0xc0 bytes each: the whole decodes as null (trailing bytes ignored).
        #expect(try codec.receive(chunk(12, 1, 2)) == .message(.null))
        #expect(try codec.receive(chunk(11, 1, 2)) == nil)
        // A duplicated piece does not count twice.
        #expect(try codec.receive(chunk(20, 0, 2)) == nil)
        #expect(try codec.receive(chunk(20, 0, 2)) == nil)
        #expect(try codec.receive(chunk(20, 1, 2)) == .message(.null))
        // Pieces adding up past the byte limit drop the message.
        #expect(try codec.receive(chunk(30, 0, 3, bytes: 16_000)) == nil)
        #expect(try codec.receive(chunk(30, 1, 3, bytes: 16_000)) == nil)
        #expect(throws: SignalingError.self) { try codec.receive(chunk(30, 2, 3, bytes: 16_000)) }
    }

    @Test func jsonRepliesInTheKindOfMessageThePeerUses() throws {
        // PeerJS 1.5: UTF-8 JSON in binary messages.
        var modern = DataChannelCodec(serialization: .json)
        #expect(try modern.receive(.binary(Array(#"{"t":"chat","text":"hello door"}"#.utf8))) == .message(chat))
        #expect(try modern.frames(for: chat) == [.binary(Array(#"{"t":"chat","text":"hello door"}"#.utf8))])
        // PeerJS 1.4: text messages; after one arrives, replies are text.
        var old = DataChannelCodec(serialization: .json)
        #expect(try old.receive(.text(#"{"t":"chat","text":"hello door"}"#)) == .message(chat))
        #expect(try old.frames(for: chat) == [.text(#"{"t":"chat","text":"hello door"}"#)])
        // Known 1.4 from the offer's `browser` field: text from the first message.
        var told = DataChannelCodec(serialization: .json, jsonAsText: true)
        #expect(try told.frames(for: "hi") == [.text(#""hi""#)])
        // PeerJS refuses JSON messages of 16 300 bytes and more; so do we.
        #expect(throws: SignalingError.self) { try modern.frames(for: .string(String(repeating: "a", count: 16_298))) }
        #expect(try modern.frames(for: .string(String(repeating: "a", count: 16_297))).count == 1)
        #expect(throws: SignalingError.self) { try modern.frames(for: .binary([1])) }
    }

    @Test func rawPassesStringsAndBytesThrough() throws {
        var codec = DataChannelCodec(serialization: .raw)
        #expect(try codec.receive(.text("plain")) == .message("plain"))
        #expect(try codec.receive(.binary([1, 2, 3])) == .message(.binary([1, 2, 3])))
        #expect(try codec.frames(for: "plain") == [.text("plain")])
        #expect(try codec.frames(for: .binary([9])) == [.binary([9])])
        #expect(throws: SignalingError.self) { try codec.frames(for: chat) }
    }

    @Test func malformedAndHostileMessagesAreErrorsNotCrashes() {
        var json = DataChannelCodec(serialization: .json)
        #expect(throws: SignalingError.self) { try json.receive(.text("{not json")) }
        #expect(throws: SignalingError.self) { try json.receive(.binary([0xff, 0xfe])) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: SignalingError.self) { try json.receive(.text(deep)) }
        var binary = DataChannelCodec(serialization: .binary)
        #expect(throws: SignalingError.self) { try binary.receive(.text("text on a binary connection")) }
        #expect(throws: SignalingError.self) { try binary.receive(.binary([UInt8](repeating: 0, count: 300_000))) }
        var random = SplitMix64(seed: 99)
        for _ in 0..<5000 {
            let bytes = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? binary.receive(.binary(bytes))
            _ = try? json.receive(.binary(bytes))
        }
    }

    @Test func serializationNamesAreTheWireNames() {
        #expect(DataSerialization(wireName: "binary") == .binary)
        #expect(DataSerialization(wireName: "binary-utf8") == .binaryUTF8)
        #expect(DataSerialization(wireName: "json") == .json)
        #expect(DataSerialization(wireName: "raw") == .raw)
        #expect(DataSerialization(wireName: nil) == .binary)
        #expect(DataSerialization(wireName: "MsgPack") == nil)
    }
}

/// The bytes of a binary data-channel message; nil for a text one.
private func binaryBytes(_ frame: DataChannelCodec.Frame) -> [UInt8]? {
    guard case .binary(let bytes) = frame else { return nil }
    return bytes
}

/// A failed precondition inside a test: thrown so the test stops there and fails, never returns early as a pass.
private struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
