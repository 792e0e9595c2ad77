import DoorCore

/// One value sent over a PeerJS data connection: what a browser passes to `conn.send()` and gets in its
/// `data` event, for every serialization (docs/signaling.md#data-connections, #binarypack).
///
/// Integers and non-integers are kept apart because BinaryPack encodes them differently (a JS number that is
/// an integer takes the smallest integer width, any other number is a float64). Maps keep their key order,
/// which matters on the wire (chunk maps are `__peerData, n, data, total`).
public enum DataValue: Sendable, Equatable {
    case null
    /// BinaryPack `0xc1` and `0xd4…0xd7`; encodes as null, as JS `undefined` does.
    case undefined
    case bool(Bool)
    case int(Int64)
    /// Only for integers above `Int64.max` (BinaryPack `0xcf`).
    case uint64(UInt64)
    case double(Double)
    case string(String)
    /// BinaryPack raw bytes; a JS ArrayBuffer.
    case binary([UInt8])
    case array([DataValue])
    case map([Entry])

    public struct Entry: Sendable, Equatable {
        public var key: DataValue
        public var value: DataValue
        public init(_ key: DataValue, _ value: DataValue) { self.key = key; self.value = value }
    }

    /// A map with string keys, in the given order.
    public static func object(_ pairs: [(String, DataValue)]) -> DataValue {
        .map(pairs.map { Entry(.string($0.0), $0.1) })
    }

    /// The value of `key` in a map, as JS property access sees it (the last entry wins).
    public subscript(key: String) -> DataValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.last { $0.key.propertyName == key }?.value
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }

    /// Any number as a Double (what JS holds).
    public var numberValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .uint64(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }

    /// An integral number as Int64 (chunk ids and indexes).
    public var integerValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return d.rounded(.towardZero) == d ? Int64(exactly: d) : nil
        default: return nil
        }
    }

    /// JS truthiness, used for the `__peerData` control check.
    public var isTruthy: Bool {
        switch self {
        case .null, .undefined: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .uint64(let u): return u != 0
        case .double(let d): return d != 0 && !d.isNaN
        case .string(let s): return !s.isEmpty
        case .binary, .array, .map: return true
        }
    }

    /// The property name JS makes of a decoded map key.
    var propertyName: String {
        switch self {
        case .string(let s): return s
        case .null: return "null"
        case .undefined: return "undefined"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint64(let u): return String(u)
        case .double(let d): return "\(d)"
        case .binary: return "[object ArrayBuffer]"
        case .array(let items): return items.map(\.propertyName).joined(separator: ",")
        case .map: return "[object Object]"
        }
    }
}

// MARK: - JSON

extension DataValue {
    /// From JSON: integral numbers become `.int` (as JS sees them), objects maps with sorted keys.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let n):
            if n.rounded(.towardZero) == n, let i = Int64(exactly: n) { self = .int(i) } else { self = .double(n) }
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(DataValue.init))
        case .object(let fields):
            self = .map(fields.keys.sorted().map { Entry(.string($0), DataValue(fields[$0] ?? .null)) })
        }
    }

    /// As JSON, the way `JSON.stringify` sees it, or nil when the value holds raw bytes (JSON has no bytes).
    public var json: JSONValue? {
        switch self {
        case .null, .undefined: return .null
        case .bool(let b): return .bool(b)
        case .int, .uint64, .double: return numberValue.map(JSONValue.number)
        case .string(let s): return .string(s)
        case .binary: return nil
        case .array(let items):
            var out: [JSONValue] = []
            for item in items {
                guard let j = item.json else { return nil }
                out.append(j)
            }
            return .array(out)
        case .map(let entries):
            var out: [String: JSONValue] = [:]
            for entry in entries {
                guard let j = entry.value.json else { return nil }
                out[entry.key.propertyName] = j
            }
            return .object(out)
        }
    }
}

extension DataValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}
