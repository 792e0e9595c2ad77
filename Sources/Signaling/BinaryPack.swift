/// The BinaryPack format of PeerJS data connections (docs/signaling.md#binarypack): MessagePack-like, big-endian,
/// but with its own string/raw split, so a stock MessagePack codec cannot read it.
///
/// The encoder picks widths exactly as the JS packer does; the decoder accepts every width and is bounded by
/// `Limits`, so a hostile peer can neither exhaust the stack (depth) nor memory (counts are checked against
/// the bytes that remain, and the number of values is capped).
public enum BinaryPack {
    public struct Limits: Sendable {
        /// Nesting of arrays and maps.
        public var maxDepth = 32
        /// Values of any kind in one message (each costs memory beyond its bytes).
        public var maxValues = 100_000
        public init() {}
    }

    // MARK: - Encoding

    public static func encode(_ value: DataValue) -> [UInt8] {
        var out: [UInt8] = []
        encode(value, into: &out)
        return out
    }

    public static func encode(_ value: DataValue, into out: inout [UInt8]) {
        switch value {
        case .null, .undefined: out.append(0xc0)
        case .bool(let b): out.append(b ? 0xc3 : 0xc2)
        case .int(let i): encodeInteger(i, into: &out)
        case .uint64(let u):
            if let i = Int64(exactly: u) { encodeInteger(i, into: &out) } else { out.append(0xcf); append(u, 8, &out) }
        case .double(let d):
            // A JS number that is an integer is packed as one (`Math.floor(v) === v`); -0 becomes 0.
            if d.isFinite, d.rounded(.down) == d {
                if let i = Int64(exactly: d) { return encodeInteger(i, into: &out) }
                if let u = UInt64(exactly: d) { out.append(0xcf); return append(u, 8, &out) }
            }
            out.append(0xcb)
            append(d.bitPattern, 8, &out)
        case .string(let s):
            let bytes = Array(s.utf8)
            header(bytes.count, small: 0xb0, wide16: 0xd8, wide32: 0xd9, &out)
            out.append(contentsOf: bytes)
        case .binary(let bytes):
            header(bytes.count, small: 0xa0, wide16: 0xda, wide32: 0xdb, &out)
            out.append(contentsOf: bytes)
        case .array(let items):
            header(items.count, small: 0x90, wide16: 0xdc, wide32: 0xdd, &out)
            for item in items { encode(item, into: &out) }
        case .map(let entries):
            header(entries.count, small: 0x80, wide16: 0xde, wide32: 0xdf, &out)
            for entry in entries {
                encode(entry.key, into: &out)
                encode(entry.value, into: &out)
            }
        }
    }

    /// Smallest width in the JS packer's order: fixint, uint8, int8, uint16, int16, uint32, int32, int64.
    private static func encodeInteger(_ n: Int64, into out: inout [UInt8]) {
        switch n {
        case -0x20...0x7f: out.append(UInt8(truncatingIfNeeded: n))
        case 0...0xff: out.append(0xcc); append(UInt64(n), 1, &out)
        case -0x80...0x7f: out.append(0xd0); append(UInt64(bitPattern: n), 1, &out)
        case 0...0xffff: out.append(0xcd); append(UInt64(n), 2, &out)
        case -0x8000...0x7fff: out.append(0xd1); append(UInt64(bitPattern: n), 2, &out)
        case 0...0xffff_ffff: out.append(0xce); append(UInt64(n), 4, &out)
        case -0x8000_0000...0x7fff_ffff: out.append(0xd2); append(UInt64(bitPattern: n), 4, &out)
        default: out.append(0xd3); append(UInt64(bitPattern: n), 8, &out)
        }
    }

    private static func header(_ count: Int, small: UInt8, wide16: UInt8, wide32: UInt8, _ out: inout [UInt8]) {
        if count <= 0x0f {
            out.append(small + UInt8(count))
        } else if count <= 0xffff {
            out.append(wide16); append(UInt64(count), 2, &out)
        } else {
            // Over 4 GiB cannot happen here: nothing the device sends comes near it.
            out.append(wide32); append(UInt64(min(count, 0xffff_ffff)), 4, &out)
        }
    }

    private static func append(_ value: UInt64, _ width: Int, _ out: inout [UInt8]) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    // MARK: - Decoding

    /// Decodes the first value in `bytes`; trailing bytes are ignored, as the JS unpacker does.
    public static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws(SignalingError) -> DataValue {
        var reader = Reader(bytes: bytes, limits: limits)
        return try reader.value(depth: 0)
    }

    private struct Reader {
        let bytes: [UInt8]
        let limits: Limits
        var index = 0
        var values = 0

        init(bytes: [UInt8], limits: Limits) { self.bytes = bytes; self.limits = limits }

        var remaining: Int { bytes.count - index }

        mutating func value(depth: Int) throws(SignalingError) -> DataValue {
            values += 1
            guard values <= limits.maxValues else {
                throw SignalingError(.tooLarge, "BinaryPack: more than \(limits.maxValues) values")
            }
            let type = try byte()
            switch type {
            case 0x00...0x7f: return .int(Int64(type))
            case 0xe0...0xff: return .int(Int64(Int8(bitPattern: type)))
            case 0x80...0x8f: return try map(Int(type & 0x0f), depth: depth)
            case 0x90...0x9f: return try array(Int(type & 0x0f), depth: depth)
            case 0xa0...0xaf: return .binary(try take(Int(type & 0x0f)))
            case 0xb0...0xbf: return .string(String(decoding: try take(Int(type & 0x0f)), as: UTF8.self))
            case 0xc0: return .null
            case 0xc2: return .bool(false)
            case 0xc3: return .bool(true)
            case 0xca: return .double(Double(Float(bitPattern: UInt32(try unsigned(4)))))
            case 0xcb: return .double(Double(bitPattern: try unsigned(8)))
            case 0xcc: return .int(Int64(try unsigned(1)))
            case 0xcd: return .int(Int64(try unsigned(2)))
            case 0xce: return .int(Int64(try unsigned(4)))
            case 0xcf:
                let u = try unsigned(8)
                return Int64(exactly: u).map(DataValue.int) ?? .uint64(u)
            case 0xd0: return .int(Int64(Int8(truncatingIfNeeded: try unsigned(1))))
            case 0xd1: return .int(Int64(Int16(truncatingIfNeeded: try unsigned(2))))
            case 0xd2: return .int(Int64(Int32(truncatingIfNeeded: try unsigned(4))))
            case 0xd3: return .int(Int64(bitPattern: try unsigned(8)))
            case 0xd8: return .string(String(decoding: try take(Int(try unsigned(2))), as: UTF8.self))
            case 0xd9: return .string(String(decoding: try take(Int(try unsigned(4))), as: UTF8.self))
            case 0xda: return .binary(try take(Int(try unsigned(2))))
            case 0xdb: return .binary(try take(Int(try unsigned(4))))
            case 0xdc: return try array(Int(try unsigned(2)), depth: depth)
            case 0xdd: return try array(Int(try unsigned(4)), depth: depth)
            case 0xde: return try map(Int(try unsigned(2)), depth: depth)
            case 0xdf: return try map(Int(try unsigned(4)), depth: depth)
            default: return .undefined // 0xc1, 0xc4…0xc9 and 0xd4…0xd7: undefined, nothing consumed
            }
        }

        mutating func array(_ count: Int, depth: Int) throws(SignalingError) -> DataValue {
            guard depth < limits.maxDepth else { throw SignalingError(.tooLarge, "BinaryPack: nested too deep") }
            // Every value takes at least one byte: a count beyond what remains is a lie, refused before allocating.
            guard count <= remaining else { throw truncated() }
            var items: [DataValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try value(depth: depth + 1)) }
            return .array(items)
        }

        mutating func map(_ count: Int, depth: Int) throws(SignalingError) -> DataValue {
            guard depth < limits.maxDepth else { throw SignalingError(.tooLarge, "BinaryPack: nested too deep") }
            guard count <= remaining / 2 else { throw truncated() }
            var entries: [DataValue.Entry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let key = try value(depth: depth + 1)
                entries.append(DataValue.Entry(key, try value(depth: depth + 1)))
            }
            return .map(entries)
        }

        mutating func byte() throws(SignalingError) -> UInt8 {
            guard index < bytes.count else { throw truncated() }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func unsigned(_ width: Int) throws(SignalingError) -> UInt64 {
            guard width <= remaining else { throw truncated() }
            var result: UInt64 = 0
            for i in index..<(index + width) { result = result << 8 | UInt64(bytes[i]) }
            index += width
            return result
        }

        mutating func take(_ count: Int) throws(SignalingError) -> [UInt8] {
            guard count <= remaining else { throw truncated() }
            defer { index += count }
            return Array(bytes[index..<(index + count)])
        }

        func truncated() -> SignalingError {
            SignalingError(.malformedData, "BinaryPack: truncated at byte \(index) of \(bytes.count)")
        }
    }
}
