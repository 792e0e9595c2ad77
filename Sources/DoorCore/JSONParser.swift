import Glibc

/// A JSON text reader for input a stranger chooses (signaling frames, control-socket lines): one pass over
/// the bytes, the kind of each value decided by its first byte, so the cost is linear with a small constant
/// whatever the shape. (`JSONDecoder` into `JSONValue` tries each kind in turn and throws for every miss: a
/// 64 KiB `[{},{},…]` cost up to 130 ms of the main loop.) Nesting is capped and checked as it is met.
public struct JSONParser {
    public struct Failure: Error, Sendable, Equatable {
        public var reason: String
        /// Byte offset where reading stopped.
        public var offset: Int
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private let maxDepth: Int

    private init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// The one value in `text` (whitespace around it allowed).
    public static func parse(_ text: some Collection<UInt8>, maxDepth: Int = 32) throws(Failure) -> JSONValue {
        let copy = ContiguousArray(text)
        let result: Result<JSONValue, Failure> = copy.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer, maxDepth: maxDepth)
            do throws(Failure) {
                parser.skipWhitespace()
                let value = try parser.value(depth: 0)
                parser.skipWhitespace()
                guard parser.index == buffer.count else { throw parser.failure("text after the value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The top-level members of an object, each value left as the byte range of its text, not built: for
    /// routers that read a few fields and forward the rest unread. Strings and scalars at the top level are
    /// checked as JSON; an array or object value only for its structure (strings closed, brackets matched,
    /// nesting within `maxDepth`) in one flat pass — whoever uses the value parses it in full.
    public static func members(_ text: some Collection<UInt8>,
                               maxDepth: Int = 32) throws(Failure) -> [(key: String, value: Range<Int>)] {
        // A NUL after the text: `skipStructure` scans with the C library's `strcspn`, which stops there.
        var copy = ContiguousArray(text)
        copy.append(0)
        let result: Result<[(key: String, value: Range<Int>)], Failure> = copy.withUnsafeBufferPointer { whole in
            let buffer = UnsafeBufferPointer(rebasing: whole[0..<(whole.count - 1)])
            var parser = JSONParser(buffer, maxDepth: maxDepth)
            do throws(Failure) {
                var members: [(key: String, value: Range<Int>)] = []
                parser.skipWhitespace()
                guard parser.peek == UInt8(ascii: "{") else { throw parser.failure("not a JSON object") }
                parser.index += 1
                parser.skipWhitespace()
                if parser.peek == UInt8(ascii: "}") {
                    parser.index += 1
                } else {
                    while true {
                        let key = try parser.string()
                        parser.skipWhitespace()
                        try parser.expect(UInt8(ascii: ":"))
                        parser.skipWhitespace()
                        let start = parser.index
                        if parser.peek == UInt8(ascii: "{") || parser.peek == UInt8(ascii: "[") {
                            try parser.skipStructure()
                        } else {
                            try parser.skipValue(depth: 1)
                        }
                        members.append((key, start..<parser.index))
                        parser.skipWhitespace()
                        if parser.peek == UInt8(ascii: ",") { parser.index += 1; parser.skipWhitespace(); continue }
                        try parser.expect(UInt8(ascii: "}"))
                        break
                    }
                }
                parser.skipWhitespace()
                guard parser.index == buffer.count else { throw parser.failure("text after the object") }
                return .success(members)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: reading

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func failure(_ reason: String) -> Failure { Failure(reason: reason, offset: index) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard peek == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw failure("truncated literal") }
        for i in 0..<count where bytes[index + i] != word.utf8Start[i] { throw failure("unknown literal") }
        index += count
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard let first = peek else { throw failure("unexpected end") }
        switch first {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw failure("nested deeper than \(maxDepth)") }
            index += 1
            var fields: [String: JSONValue] = [:]
            skipWhitespace()
            if peek == UInt8(ascii: "}") { index += 1; return .object(fields) }
            while true {
                skipWhitespace()
                let key = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                fields[key] = try value(depth: depth + 1)
                skipWhitespace()
                if peek == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .object(fields)
            }
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw failure("nested deeper than \(maxDepth)") }
            index += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if peek == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                if peek == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "]"))
                return .array(items)
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("unexpected byte \(first)")
        }
    }

    /// Skips an array or object by its structure alone, without recursion: which brackets are open is one
    /// bit per level (object or array), strings are skipped to their closing quote. The bytes in between are
    /// passed over with `strcspn` (vectorised in the C library), so this stays cheap in debug builds too,
    /// which the tests run. Needs a NUL after `bytes` (`members` puts one there); a NUL inside is refused.
    private mutating func skipStructure() throws(Failure) {
        let limit = min(maxDepth, 63)
        guard let base = bytes.baseAddress else { throw failure("unexpected end") }
        let text = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
        let count = bytes.count
        var i = index
        var depth = 0
        var objects: UInt64 = 0 // bit d set: level d is an object
        defer { index = i }
        while true {
            i += strcspn(text + i, JSONParser.structural)
            guard i < count, base[i] != 0 else { throw Failure(reason: "unterminated value", offset: i) }
            let b = base[i]
            i += 1
            if b == 0x22 { // "
                while true {
                    i += strcspn(text + i, JSONParser.stringEnds)
                    guard i < count, base[i] != 0 else { throw Failure(reason: "unterminated string", offset: i) }
                    if base[i] == 0x22 { i += 1; break }
                    i += 2 // a backslash and the byte it escapes
                    guard i <= count else { throw Failure(reason: "unterminated string", offset: count) }
                }
            } else if b == 0x7B || b == 0x5B { // { [
                guard depth < limit else { throw Failure(reason: "nested deeper than \(limit)", offset: i) }
                if b == 0x7B { objects |= 1 << UInt64(depth) } else { objects &= ~(1 << UInt64(depth)) }
                depth += 1
            } else { // } ]
                guard depth > 0 else { throw Failure(reason: "unmatched bracket", offset: i) }
                depth -= 1
                let isObject = objects & (1 << UInt64(depth)) != 0
                guard isObject == (b == 0x7D) else { throw Failure(reason: "unmatched bracket", offset: i) }
                if depth == 0 { return }
            }
        }
    }

    private static let structural: [CChar] = Array("{}[]\"".utf8CString)
    private static let stringEnds: [CChar] = Array("\"\\".utf8CString)

    /// Like `value` without building anything.
    private mutating func skipValue(depth: Int) throws(Failure) {
        guard let first = peek else { throw failure("unexpected end") }
        switch first {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < maxDepth else { throw failure("nested deeper than \(maxDepth)") }
            let isObject = first == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipWhitespace()
            if peek == close { index += 1; return }
            while true {
                skipWhitespace()
                if isObject {
                    try skipString()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek == UInt8(ascii: ",") { index += 1; continue }
                try expect(close)
                return
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try number()
        default: throw failure("unexpected byte \(first)")
        }
    }

    private mutating func number() throws(Failure) -> Double {
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let lead = peek, lead >= UInt8(ascii: "0"), lead <= UInt8(ascii: "9") else { throw failure("bad number") }
        if lead == UInt8(ascii: "0") { index += 1 } else { digits() }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw failure("bad fraction") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw failure("bad exponent") }
        }
        guard index - start <= 64, let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]),
                                                                 as: UTF8.self)), value.isFinite
        else { throw failure("number out of range") }
        return value
    }

    @discardableResult
    private mutating func digits() -> Int {
        let start = index
        while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    private mutating func skipString() throws(Failure) {
        guard peek == UInt8(ascii: "\"") else { throw failure("expected a string") }
        index += 1
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") { index += 1; return }
            if b < 0x20 { throw failure("control character in a string") }
            if b == UInt8(ascii: "\\") {
                index += 1
                guard let e = peek else { break }
                if e == UInt8(ascii: "u") {
                    _ = try hex4()
                    continue
                }
                guard Self.simpleEscape(e) != nil else { throw failure("bad escape") }
            }
            index += 1
        }
        throw failure("unterminated string")
    }

    private mutating func string() throws(Failure) -> String {
        guard peek == UInt8(ascii: "\"") else { throw failure("expected a string") }
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw failure("control character in a string") }
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw failure("control character in a string") }
            guard b == UInt8(ascii: "\\") else { out.append(b); index += 1; continue }
            index += 1
            guard let e = peek else { break }
            if e == UInt8(ascii: "u") {
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), bytes.count - index >= 6,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    let save = index
                    index += 1
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: String(character).utf8)
                continue
            }
            guard let plain = Self.simpleEscape(e) else { throw failure("bad escape") }
            out.append(plain)
            index += 1
        }
        throw failure("unterminated string")
    }

    /// Reads `uXXXX` (index on the `u`); returns the code unit.
    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - index >= 5 else { throw failure("truncated \\u escape") }
        var value: UInt32 = 0
        for i in 1...4 {
            let c = bytes[index + i]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw failure("bad \\u escape")
            }
            value = value << 4 | digit
        }
        index += 5
        return value
    }

    private static func simpleEscape(_ e: UInt8) -> UInt8? {
        switch e {
        case UInt8(ascii: "\""): return UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): return UInt8(ascii: "\\")
        case UInt8(ascii: "/"): return UInt8(ascii: "/")
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        default: return nil
        }
    }
}
