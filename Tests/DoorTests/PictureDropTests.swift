import DoorCore
@testable import Door
import MainLoop
import Signaling
import Testing

/// The door's side of file sharing for pictures (`PictureDrop`), without a connection: what it answers to
/// offers, chunks and ends. Decoding and the screen are covered end to end (suites/e2e/test_picture_to_door.py).
@Suite struct PictureDropTests {
    init() { GLibLoop.shared.start() }

    @GLibActor final class Wire {
        var sent: [JSONValue] = []
        var shown = 0
    }

    @GLibActor static func drop(_ wire: Wire) -> PictureDrop {
        PictureDrop(screen: (800, 480), send: { wire.sent.append($0); return true }, show: { _ in wire.shown += 1 })
    }

    static func offer(_ id: String, size: Int, type: String) -> DataValue {
        DataValue(["t": "file-offer", "id": .string(id), "name": "x", "size": .number(Double(size)), "type": .string(type)])
    }

    static func chunk(_ id: String, offset: Int, _ bytes: [UInt8]) -> DataValue {
        .map([.init(.string("t"), .string("file-chunk")), .init(.string("id"), .string(id)),
              .init(.string("offset"), .int(Int64(offset))), .init(.string("data"), .binary(bytes))])
    }

    @Test @GLibActor func itAnswersThePagesAnnouncementWithPicturesOnlyOnce() {
        let wire = Wire()
        let drop = Self.drop(wire)
        let announcement = DataValue(["t": "features", "files": true])
        #expect(drop.receive(announcement) && drop.receive(announcement))
        #expect(wire.sent.count == 1)
        #expect(wire.sent.first?["t"] == "features" && wire.sent.first?["files"] == true)
        #expect(wire.sent.first?["accepts"] == ["image/jpeg", "image/png"])
    }

    @Test @GLibActor func otherFilesTooLargeOnesAndASecondOneAreRefused() {
        let wire = Wire()
        let drop = Self.drop(wire)
        #expect(drop.receive(Self.offer("a", size: 10, type: "application/pdf")))
        #expect(drop.receive(Self.offer("b", size: PictureDrop.maxBytes + 1, type: "image/png")))
        #expect(drop.receive(Self.offer("c", size: 100, type: "image/jpeg")))
        #expect(drop.receive(Self.offer("d", size: 100, type: "image/jpeg")))
        #expect(wire.sent.map { $0["t"] } == ["file-refuse", "file-refuse", "file-accept", "file-refuse"])
        #expect(wire.sent.map { $0["reason"] } == ["not-a-picture", "too-large", nil, "busy"])
        #expect(wire.sent[1]["limit"]?.numberValue == Double(PictureDrop.maxBytes))
    }

    @Test @GLibActor func chatMessagesAreNotTaken() {
        let drop = Self.drop(Wire())
        #expect(!drop.receive(DataValue(["t": "chat", "text": "hello"])))
        #expect(!drop.receive(DataValue(["text": "hello"])))
    }

    @Test @GLibActor func aChunkOutOfOrderOrOverTheSizeCancels() {
        for chunks in [[(5, [UInt8](repeating: 1, count: 5))], [(0, [UInt8](repeating: 1, count: 11))]] {
            let wire = Wire()
            let drop = Self.drop(wire)
            _ = drop.receive(Self.offer("p", size: 10, type: "image/png"))
            for (offset, bytes) in chunks { _ = drop.receive(Self.chunk("p", offset: offset, bytes)) }
            #expect(wire.sent.last?["t"] == "file-cancel")
            // The transfer is gone: a new offer is taken.
            _ = drop.receive(Self.offer("q", size: 10, type: "image/png"))
            #expect(wire.sent.last?["t"] == "file-accept")
        }
    }

    @Test @GLibActor func aFileThatIsNotReallyAPictureArrivesButIsNotShown() {
        let wire = Wire()
        let drop = Self.drop(wire)
        let bytes = Array("not a png at all".utf8)
        _ = drop.receive(Self.offer("p", size: bytes.count, type: "image/png"))
        _ = drop.receive(Self.chunk("p", offset: 0, Array(bytes[0..<8])))
        _ = drop.receive(Self.chunk("p", offset: 8, Array(bytes[8...])))
        _ = drop.receive(DataValue(["t": "file-end", "id": "p"]))
        #expect(wire.sent.map { $0["t"] } == ["file-accept", "file-done"])
        #expect(wire.shown == 0)
        // Nothing is held: the next picture is taken.
        _ = drop.receive(Self.offer("q", size: 10, type: "image/png"))
        #expect(wire.sent.last?["t"] == "file-accept")
    }
}
