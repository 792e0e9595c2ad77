import FoundationEssentials
import DoorCore

/// One PeerJS signaling frame, as the official server and clients spell it (docs/signaling.md#frames).
public struct PeerJSMessage: Sendable, Equatable {
    /// Message types; the raw values are the wire names.
    public enum Kind: String, Sendable {
        case open = "OPEN", error = "ERROR", idTaken = "ID-TAKEN", invalidKey = "INVALID-KEY"
        case expire = "EXPIRE", leave = "LEAVE", heartbeat = "HEARTBEAT"
        case offer = "OFFER", answer = "ANSWER", candidate = "CANDIDATE"
    }

    public var type: Kind
    public var src: String?
    public var dst: String?
    public var payload: JSONValue?
    /// The payload as the sender wrote it, unread: what a router (the built-in server) forwards without
    /// decoding it. Written by `encoded()` when `payload` is nil.
    public var payloadText: String?

    public init(type: Kind, src: String? = nil, dst: String? = nil, payload: JSONValue? = nil,
                payloadText: String? = nil) {
        self.type = type; self.src = src; self.dst = dst; self.payload = payload; self.payloadText = payloadText
    }

    /// Parses one text frame as a router needs it: `type`, `src`, `dst` read, the payload kept as text
    /// (`payloadText`; an object or array checked only for its structure), so the cost is one flat pass
    /// whatever the payload holds. The recipient parses the payload in full.
    public static func decodeForRouting(_ text: String) throws(SignalingError) -> PeerJSMessage {
        let bytes = Array(text.utf8)
        guard bytes.count <= WebSocketHost.maxMessageBytes else {
            throw SignalingError(.tooLarge, "frame over \(WebSocketHost.maxMessageBytes) bytes")
        }
        let members: [(key: String, value: Range<Int>)]
        do { members = try JSONParser.members(bytes, maxDepth: JSONText.maxDepth) } catch {
            throw SignalingError(.malformedMessage, "not a JSON object: \(error.reason) at \(error.offset)")
        }
        var type: Kind?, src: String?, dst: String?, payloadText: String?
        for (key, range) in members {
            switch key {
            case "type":
                guard case .string(let name)? = try? JSONParser.parse(bytes[range]) else {
                    throw SignalingError(.malformedMessage, "no type")
                }
                guard let kind = Kind(rawValue: name) else {
                    throw SignalingError(.unknownMessageType, String(name.prefix(40)))
                }
                type = kind
            case "src", "dst":
                let value: String?
                switch bytes[range.lowerBound] {
                case UInt8(ascii: "n"): value = nil
                case UInt8(ascii: "\""):
                    guard range.count <= 1024, case .string(let s)? = try? JSONParser.parse(bytes[range]) else {
                        throw SignalingError(.malformedMessage, "\(key) is not a short string")
                    }
                    value = s
                default: throw SignalingError(.malformedMessage, "\(key) is not a string")
                }
                if key == "src" { src = value } else { dst = value }
            case "payload":
                payloadText = bytes[range.lowerBound] == UInt8(ascii: "n") ? nil
                    : String(decoding: bytes[range], as: UTF8.self)
            default:
                break
            }
        }
        guard let type else { throw SignalingError(.malformedMessage, "no type") }
        return PeerJSMessage(type: type, src: src, dst: dst, payloadText: payloadText)
    }

    /// Parses one text frame. Unknown types and malformed JSON are errors the caller logs and drops.
    public static func decode(_ text: String) throws(SignalingError) -> PeerJSMessage {
        let value = try JSONText.parse(text.utf8, maxBytes: WebSocketHost.maxReceivedByClientBytes)
        guard case .object(let fields) = value else { throw SignalingError(.malformedMessage, "not a JSON object") }
        guard let typeName = fields["type"]?.stringValue else { throw SignalingError(.malformedMessage, "no type") }
        guard let kind = Kind(rawValue: typeName) else {
            throw SignalingError(.unknownMessageType, String(typeName.prefix(40)))
        }
        func id(_ key: String) throws(SignalingError) -> String? {
            switch fields[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw SignalingError(.malformedMessage, "\(key) is not a string")
            }
        }
        return PeerJSMessage(type: kind, src: try id("src"), dst: try id("dst"), payload: fields["payload"])
    }

    /// The frame as JSON text. Only the four wire fields are written, as the official server forwards them.
    public func encoded() -> String {
        if payload == nil, let payloadText {
            // Keys in the order `jsonText` sorts them: dst, payload, src, type.
            var text = "{"
            if let dst { text += #""dst":"# + JSONValue.string(dst).jsonText() + "," }
            text += #""payload":"# + payloadText + ","
            if let src { text += #""src":"# + JSONValue.string(src).jsonText() + "," }
            return text + #""type":"# + JSONValue.string(type.rawValue).jsonText() + "}"
        }
        var fields: [String: JSONValue] = ["type": .string(type.rawValue)]
        if let src { fields["src"] = .string(src) }
        if let dst { fields["dst"] = .string(dst) }
        if let payload { fields["payload"] = payload }
        return JSONValue.object(fields).jsonText()
    }
}

extension JSONValue {
    /// Compact JSON text (keys sorted, so output is stable for tests and logs).
    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The `sdp` object of an OFFER or ANSWER payload: `{"type":"offer","sdp":"v=0…"}`.
public struct SessionDescription: Sendable, Equatable {
    public var type: String
    public var sdp: String
    public init(type: String, sdp: String) { self.type = type; self.sdp = sdp }
}

/// The payload of an OFFER or ANSWER (docs/signaling.md#frames).
public struct ConnectionPayload: Sendable, Equatable {
    public enum ConnectionType: String, Sendable { case media, data }

    public var sdp: SessionDescription
    public var type: ConnectionType
    public var connectionId: String
    public var metadata: JSONValue?
    /// Data connections only.
    public var label: String?
    public var reliable: Bool?
    public var serialization: String?
    /// Sent by PeerJS 1.4.x only; its absence marks a 1.5 peer.
    public var browser: String?

    public init(sdp: SessionDescription, type: ConnectionType, connectionId: String, metadata: JSONValue? = nil,
                label: String? = nil, reliable: Bool? = nil, serialization: String? = nil, browser: String? = nil) {
        self.sdp = sdp; self.type = type; self.connectionId = connectionId; self.metadata = metadata
        self.label = label; self.reliable = reliable; self.serialization = serialization; self.browser = browser
    }

    public init(_ payload: JSONValue?) throws(SignalingError) {
        guard let payload, case .object = payload else { throw SignalingError(.malformedMessage, "no payload") }
        guard let sdpObject = payload["sdp"], let sdpType = sdpObject["type"]?.stringValue,
              let sdpText = sdpObject["sdp"]?.stringValue
        else { throw SignalingError(.malformedMessage, "payload.sdp is not {type, sdp}") }
        guard let typeName = payload["type"]?.stringValue, let type = ConnectionType(rawValue: typeName)
        else { throw SignalingError(.malformedMessage, "payload.type is not media or data") }
        guard let connectionId = payload["connectionId"]?.stringValue, !connectionId.isEmpty
        else { throw SignalingError(.malformedMessage, "no connectionId") }
        self.init(sdp: SessionDescription(type: sdpType, sdp: sdpText), type: type, connectionId: connectionId,
                  metadata: payload["metadata"], label: payload["label"]?.stringValue,
                  reliable: payload["reliable"]?.boolValue, serialization: payload["serialization"]?.stringValue,
                  browser: payload["browser"]?.stringValue)
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "sdp": ["type": .string(sdp.type), "sdp": .string(sdp.sdp)],
            "type": .string(type.rawValue),
            "connectionId": .string(connectionId),
        ]
        if let metadata { fields["metadata"] = metadata }
        if let label { fields["label"] = .string(label) }
        if let reliable { fields["reliable"] = .bool(reliable) }
        if let serialization { fields["serialization"] = .string(serialization) }
        if let browser { fields["browser"] = .string(browser) }
        return .object(fields)
    }
}

/// The payload of a CANDIDATE message.
public struct CandidatePayload: Sendable, Equatable {
    public var candidate: String
    public var sdpMid: String?
    public var sdpMLineIndex: Int
    public var usernameFragment: String?
    public var type: ConnectionPayload.ConnectionType
    public var connectionId: String

    public init(candidate: String, sdpMid: String?, sdpMLineIndex: Int, usernameFragment: String? = nil,
                type: ConnectionPayload.ConnectionType, connectionId: String) {
        self.candidate = candidate; self.sdpMid = sdpMid; self.sdpMLineIndex = sdpMLineIndex
        self.usernameFragment = usernameFragment; self.type = type; self.connectionId = connectionId
    }

    public init(_ payload: JSONValue?) throws(SignalingError) {
        guard let payload, let object = payload["candidate"], case .object = object,
              let text = object["candidate"]?.stringValue
        else { throw SignalingError(.malformedMessage, "payload.candidate is not an object with a candidate") }
        guard let typeName = payload["type"]?.stringValue, let type = ConnectionPayload.ConnectionType(rawValue: typeName)
        else { throw SignalingError(.malformedMessage, "payload.type is not media or data") }
        guard let connectionId = payload["connectionId"]?.stringValue
        else { throw SignalingError(.malformedMessage, "no connectionId") }
        let index = object["sdpMLineIndex"]?.numberValue.flatMap { Int(exactly: $0) }
        guard let index, (0..<64).contains(index)
        else { throw SignalingError(.malformedMessage, "sdpMLineIndex missing or out of range") }
        self.init(candidate: text, sdpMid: object["sdpMid"]?.stringValue, sdpMLineIndex: index,
                  usernameFragment: object["usernameFragment"]?.stringValue, type: type, connectionId: connectionId)
    }

    public var json: JSONValue {
        var candidateObject: [String: JSONValue] = [
            "candidate": .string(candidate), "sdpMLineIndex": .number(Double(sdpMLineIndex)),
        ]
        if let sdpMid { candidateObject["sdpMid"] = .string(sdpMid) }
        if let usernameFragment { candidateObject["usernameFragment"] = .string(usernameFragment) }
        return ["candidate": .object(candidateObject), "type": .string(type.rawValue),
                "connectionId": .string(connectionId)]
    }
}

/// Peer IDs the PeerJS client accepts: `^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$`.
public func isValidPeerID(_ id: String) -> Bool {
    guard !id.isEmpty, id.utf8.count <= 256 else { return false }
    var previousWasSeparator = true
    for byte in id.utf8 {
        let alphanumeric = (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
        if alphanumeric { previousWasSeparator = false; continue }
        guard byte == 32 || byte == 95 || byte == 45, !previousWasSeparator else { return false }
        previousWasSeparator = true
    }
    return !previousWasSeparator
}
