import DoorCore

/// Turns data-channel messages into `DataValue`s and back for one PeerJS data connection, in the
/// connection's serialization (docs/signaling.md#data-connections): BinaryPack with chunking and `__peerData` control
/// messages, JSON (replying in the kind of message the peer uses: text for 1.4, binary for 1.5), or raw.
public struct DataChannelCodec: Sendable {
    /// One data-channel message.
    public enum Frame: Sendable, Equatable {
        case text(String)
        case binary([UInt8])
    }

    /// What a received message meant.
    public enum Received: Sendable, Equatable {
        case message(DataValue)
        /// `{"__peerData":{"type":"close"}}`: the peer asks us to close (PeerJS 1.5 `close({flush: true})`).
        case close
    }

    public struct Limits: Sendable {
        /// A single data-channel message (a chunk, a JSON text, a raw message).
        public var maxFrameBytes = 256 * 1024
        public var binaryPack = BinaryPack.Limits()
        public var chunks = BinaryPackChunker.Limits()
        public init() {}
    }

    public let serialization: DataSerialization
    public let limits: Limits
    private var chunker: BinaryPackChunker
    /// JSON replies go as text messages once the peer sent text (PeerJS 1.4), else binary (1.5).
    public private(set) var jsonAsText: Bool

    /// `jsonAsText`: start with text JSON messages (an OFFER with a `browser` field comes from PeerJS 1.4).
    public init(serialization: DataSerialization, jsonAsText: Bool = false, limits: Limits = Limits()) {
        self.serialization = serialization
        self.jsonAsText = jsonAsText
        self.limits = limits
        chunker = BinaryPackChunker(limits: limits.chunks)
    }

    /// Decodes one message. Returns nil when it was a chunk of a message not complete yet, or a control
    /// message with no meaning for us. Throws on malformed or oversized input (log it and carry on).
    public mutating func receive(_ frame: Frame) throws(SignalingError) -> Received? {
        let size: Int
        switch frame {
        case .text(let text): size = text.utf8.count
        case .binary(let bytes): size = bytes.count
        }
        guard size <= limits.maxFrameBytes else {
            throw SignalingError(.tooLarge, "data message of \(size) bytes (limit \(limits.maxFrameBytes))")
        }
        switch serialization {
        case .raw:
            switch frame {
            case .text(let text): return .message(.string(text))
            case .binary(let bytes): return .message(.binary(bytes))
            }
        case .json:
            let json: JSONValue
            switch frame {
            case .text(let text):
                jsonAsText = true
                json = try JSONText.parse(text.utf8, maxBytes: limits.maxFrameBytes)
            case .binary(let bytes):
                jsonAsText = false
                json = try JSONText.parse(bytes, maxBytes: limits.maxFrameBytes)
            }
            let value = DataValue(json)
            if let control = value["__peerData"], control.isTruthy {
                return control["type"]?.stringValue == "close" ? .close : nil
            }
            return .message(value)
        case .binary, .binaryUTF8:
            guard case .binary(let bytes) = frame else {
                throw SignalingError(.malformedData, "a text message on a BinaryPack connection")
            }
            return try unpack(bytes, depth: 0)
        }
    }

    private mutating func unpack(_ bytes: [UInt8], depth: Int) throws(SignalingError) -> Received? {
        let value = try BinaryPack.decode(bytes, limits: limits.binaryPack)
        guard let control = value["__peerData"], control.isTruthy else { return .message(value) }
        if control["type"]?.stringValue == "close" { return .close }
        guard control.integerValue != nil else { return nil }
        // A reassembled message is unpacked once more; it cannot itself be a chunk of a chunk.
        guard depth == 0 else { throw SignalingError(.malformedData, "a chunk inside a chunked message") }
        guard let whole = try chunker.add(value) else { return nil }
        return try unpack(whole, depth: 1)
    }

    /// The messages that carry `value`: one, or several chunks for a large BinaryPack value.
    public mutating func frames(for value: DataValue) throws(SignalingError) -> [Frame] {
        switch serialization {
        case .raw:
            switch value {
            case .string(let text): return [.text(text)]
            case .binary(let bytes): return [.binary(bytes)]
            default: throw SignalingError(.malformedData, "raw connections carry only strings and bytes")
            }
        case .json:
            guard let json = value.json else { throw SignalingError(.malformedData, "JSON cannot carry bytes") }
            let text = json.jsonText()
            // PeerJS refuses JSON messages of 16 300 bytes or more (`message-too-big`); so do we.
            guard text.utf8.count < BinaryPackChunker.chunkedMTU else {
                throw SignalingError(.tooLarge, "JSON message of \(text.utf8.count) bytes")
            }
            return [jsonAsText ? .text(text) : .binary(Array(text.utf8))]
        case .binary, .binaryUTF8:
            return chunker.split(BinaryPack.encode(value)).map(Frame.binary)
        }
    }

    /// `{"__peerData":{"type":"close"}}` in this serialization: asks a PeerJS 1.5 peer to close.
    public mutating func closeFrames() -> [Frame] {
        let close = DataValue.object([("__peerData", .object([("type", .string("close"))]))])
        if serialization == .raw { return [.text(#"{"__peerData":{"type":"close"}}"#)] }
        return (try? frames(for: close)) ?? []
    }
}
