/// How a PeerJS data connection puts values into data-channel messages; the offerer chooses it and the OFFER
/// carries it as `payload.serialization` (docs/signaling.md#data-connections).
public enum DataSerialization: String, Sendable, CaseIterable {
    /// BinaryPack, one value per binary message, chunked above 16 300 bytes. PeerJS's default.
    case binary
    /// A legacy alias of `binary`, byte for byte.
    case binaryUTF8 = "binary-utf8"
    /// UTF-8 JSON text: binary messages from PeerJS 1.5, text messages from 1.4.
    case json
    /// Whatever was sent: a string as a text message, bytes as a binary message.
    case raw

    /// The serialization named in an OFFER; a missing name is PeerJS's default (binary).
    public init?(wireName: String?) {
        guard let wireName else { self = .binary; return }
        if wireName == "default" { self = .binary; return }
        self.init(rawValue: wireName)
    }

    var usesBinaryPack: Bool { self == .binary || self == .binaryUTF8 }
}
