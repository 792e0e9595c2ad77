import DoorCore
import Testing
@testable import Signaling

func hex(_ text: String) -> [UInt8] {
    text.split(separator: " ").map { UInt8($0, radix: 16)! }
}

@Suite struct BinaryPackTests {
    /// Byte examples worked out by the JavaScript packer's rules (docs/signaling.md#binarypack).
    @Test func encodesTheNotesExamples() {
        #expect(BinaryPack.encode(.object([("t", "chat"), ("n", .int(2))])) == hex("82 b1 74 b4 63 68 61 74 b1 6e 02"))
        #expect(BinaryPack.encode(.int(200)) == hex("cc c8"))
        #expect(BinaryPack.encode(.int(-100)) == hex("d0 9c"))
        #expect(BinaryPack.encode(.int(70000)) == hex("ce 00 01 11 70"))
        #expect(BinaryPack.encode(.int(-40000)) == hex("d2 ff ff 63 c0"))
        #expect(BinaryPack.encode(.int((1 << 32) + 5)) == hex("d3 00 00 00 01 00 00 00 05"))
        #expect(BinaryPack.encode(.double(1.5)) == hex("cb 3f f8 00 00 00 00 00 00"))
        #expect(BinaryPack.encode(.null) == hex("c0"))
        #expect(BinaryPack.encode(.undefined) == hex("c0"))
        #expect(BinaryPack.encode(.bool(true)) == hex("c3"))
        #expect(BinaryPack.encode(.string("é")) == hex("b2 c3 a9"))
        #expect(BinaryPack.encode(.binary([1, 2])) == hex("a2 01 02"))
    }

    @Test func decodesTheNotesExamples() throws {
        #expect(try BinaryPack.decode(hex("82 b1 74 b4 63 68 61 74 b1 6e 02")) == .object([("t", "chat"), ("n", .int(2))]))
        #expect(try BinaryPack.decode(hex("cc c8")) == .int(200))
        #expect(try BinaryPack.decode(hex("d0 9c")) == .int(-100))
        #expect(try BinaryPack.decode(hex("ce 00 01 11 70")) == .int(70000))
        #expect(try BinaryPack.decode(hex("d2 ff ff 63 c0")) == .int(-40000))
        #expect(try BinaryPack.decode(hex("d3 00 00 00 01 00 00 00 05")) == .int((1 << 32) + 5))
        #expect(try BinaryPack.decode(hex("cb 3f f8 00 00 00 00 00 00")) == .double(1.5))
        #expect(try BinaryPack.decode(hex("c0")) == .null)
        #expect(try BinaryPack.decode(hex("c3")) == .bool(true))
        #expect(try BinaryPack.decode(hex("b2 c3 a9")) == .string("é"))
        #expect(try BinaryPack.decode(hex("a2 01 02")) == .binary([1, 2]))
    }

    /// Integers take the smallest width in the JS packer's order (fixint, uint8, int8, uint16, int16, uint32,
    /// int32, int64, uint64), non-integers are float64 even when float32 would do.
    @Test func picksIntegerWidthsInTheJSOrder() {
        let cases: [(DataValue, String)] = [
            (.int(0), "00"), (.int(127), "7f"), (.int(-32), "e0"), (.int(-1), "ff"),
            (.int(128), "cc 80"), (.int(255), "cc ff"), (.int(-33), "d0 df"), (.int(-128), "d0 80"),
            (.int(256), "cd 01 00"), (.int(65535), "cd ff ff"), (.int(-129), "d1 ff 7f"), (.int(-32768), "d1 80 00"),
            (.int(65536), "ce 00 01 00 00"), (.int(4_294_967_295), "ce ff ff ff ff"),
            (.int(-32769), "d2 ff ff 7f ff"), (.int(-2_147_483_648), "d2 80 00 00 00"),
            (.int(4_294_967_296), "d3 00 00 00 01 00 00 00 00"), (.int(-2_147_483_649), "d3 ff ff ff ff 7f ff ff ff"),
            (.int(.min), "d3 80 00 00 00 00 00 00 00"),
            (.uint64(UInt64(Int64.max) + 1), "cf 80 00 00 00 00 00 00 00"), (.uint64(.max), "cf ff ff ff ff ff ff ff ff"),
            // A JS number that happens to be integral is an integer on the wire, -0 included.
            (.double(2), "02"), (.double(-0.0), "00"), (.double(300), "cd 01 2c"),
            (.double(0.25), "cb 3f d0 00 00 00 00 00 00"), (.double(-2.5), "cb c0 04 00 00 00 00 00 00"),
        ]
        for (value, bytes) in cases {
            #expect(BinaryPack.encode(value) == hex(bytes), "\(value)")
        }
    }

    @Test func stringsAndRawUseTheirOwnHeadersWithLengthsInBytes() {
        let fifteen = String(repeating: "a", count: 15)
        #expect(BinaryPack.encode(.string(fifteen)).prefix(1) == [0xbf])
        #expect(BinaryPack.encode(.string(fifteen + "a")).prefix(3) == [0xd8, 0x00, 0x10])
        // "€" is three bytes: 6 characters are 18 bytes, past the 15-byte short form.
        #expect(BinaryPack.encode(.string(String(repeating: "€", count: 6))).prefix(3) == [0xd8, 0x00, 18])
        #expect(BinaryPack.encode(.string(String(repeating: "x", count: 70_000))).prefix(5) == [0xd9, 0, 1, 0x11, 0x70])
        #expect(BinaryPack.encode(.binary([UInt8](repeating: 7, count: 16))).prefix(3) == [0xda, 0x00, 0x10])
        #expect(BinaryPack.encode(.binary([UInt8](repeating: 7, count: 70_000))).prefix(5) == [0xdb, 0, 1, 0x11, 0x70])
        #expect(BinaryPack.encode(.array(Array(repeating: .null, count: 16))).prefix(3) == [0xdc, 0x00, 0x10])
        let bigMap = DataValue.map((0..<16).map { DataValue.Entry(.int(Int64($0)), .null) })
        #expect(BinaryPack.encode(bigMap).prefix(3) == [0xde, 0x00, 0x10])
    }

    /// Decoders must accept every width, not only the one the JS packer would pick.
    @Test func decodesEveryWidth() throws {
        for bytes in ["05", "cc 05", "cd 00 05", "ce 00 00 00 05", "cf 00 00 00 00 00 00 00 05", "d0 05",
                      "d1 00 05", "d2 00 00 00 05", "d3 00 00 00 00 00 00 00 05"] {
            #expect(try BinaryPack.decode(hex(bytes)) == .int(5), "\(bytes)")
        }
        #expect(try BinaryPack.decode(hex("ca 3f c0 00 00")) == .double(1.5))
        #expect(try BinaryPack.decode(hex("ca c0 20 00 00")) == .double(-2.5))
        for bytes in ["b2 68 69", "d8 00 02 68 69", "d9 00 00 00 02 68 69"] {
            #expect(try BinaryPack.decode(hex(bytes)) == .string("hi"), "\(bytes)")
        }
        for bytes in ["a2 68 69", "da 00 02 68 69", "db 00 00 00 02 68 69"] {
            #expect(try BinaryPack.decode(hex(bytes)) == .binary([0x68, 0x69]), "\(bytes)")
        }
        for bytes in ["92 01 02", "dc 00 02 01 02", "dd 00 00 00 02 01 02"] {
            #expect(try BinaryPack.decode(hex(bytes)) == .array([.int(1), .int(2)]), "\(bytes)")
        }
        for bytes in ["81 b1 61 01", "de 00 01 b1 61 01", "df 00 00 00 01 b1 61 01"] {
            #expect(try BinaryPack.decode(hex(bytes)) == .object([("a", .int(1))]), "\(bytes)")
        }
        #expect(try BinaryPack.decode(hex("c2")) == .bool(false))
        #expect(try BinaryPack.decode(hex("c1")) == .undefined)
        // 0xd4…0xd7 decode as undefined and consume nothing: the array's next element is read from the next byte.
        #expect(try BinaryPack.decode(hex("93 d4 d7 07")) == .array([.undefined, .undefined, .int(7)]))
        #expect(try BinaryPack.decode(hex("cf ff ff ff ff ff ff ff ff")) == .uint64(.max))
        // Trailing bytes are ignored, as upstream.
        #expect(try BinaryPack.decode(hex("01 02 03")) == .int(1))
    }

    @Test func fixedJSONFixturesPackAsTheBrowserPacksThem() throws {
        for fixture in DataFixtures.json {
            let value = DataValue(try JSONText.parse(fixture.json.utf8, maxBytes: 1 << 16))
            #expect(BinaryPack.encode(value) == hex(fixture.packed), "\(fixture.json)")
            let back = try BinaryPack.decode(hex(fixture.packed))
            #expect(back.json == value.json, "\(fixture.json)")
        }
    }

    /// decode(encode(v)) == v over generated values of every kind, deterministic seed.
    @Test func roundTripsGeneratedValues() throws {
        var generator = ValueGenerator(seed: 0x1D_C0FFEE)
        for _ in 0..<3000 {
            let value = generator.value(depth: 0)
            let packed = BinaryPack.encode(value)
            let decoded = try BinaryPack.decode(packed)
            #expect(decoded == value, "\(value)")
            if decoded != value { return }
        }
    }

    @Test func everyTruncationOfAValidMessageIsRefused() {
        var generator = ValueGenerator(seed: 42)
        for _ in 0..<300 {
            let packed = BinaryPack.encode(generator.value(depth: 0))
            // Every prefix of a short message, a sample of the prefixes of a long one.
            let step = max(1, packed.count / 200)
            for length in stride(from: 0, to: packed.count, by: step) {
                #expect(throws: SignalingError.self) { try BinaryPack.decode(Array(packed.prefix(length))) }
            }
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var random = SplitMix64(seed: 7)
        var decoded = 0, refused = 0
        for _ in 0..<20_000 {
            let length = Int(random.next() % 48)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if (try? BinaryPack.decode(bytes)) != nil { decoded += 1 } else { refused += 1 }
        }
        // Both outcomes happen: random input is sometimes a valid value and usually not.
        #expect(decoded > 0 && refused > 0)
    }

    @Test func hostileHeadersAreRefusedWithoutAllocatingOrRecursing() {
        // Counts far beyond the bytes present.
        for bytes in ["dd ff ff ff ff", "df ff ff ff ff 01", "db ff ff ff ff", "d9 ff ff ff ff", "dc ff ff 01 02"] {
            #expect(throws: SignalingError.self, "\(bytes)") { try BinaryPack.decode(hex(bytes)) }
        }
        // 100 000 nested one-element arrays would blow a recursive decoder's stack.
        let deep = [UInt8](repeating: 0x91, count: 100_000) + [0x01]
        #expect(throws: SignalingError(.tooLarge, "BinaryPack: nested too deep")) { try BinaryPack.decode(deep) }
        // Exactly at the depth limit is fine.
        let limit = BinaryPack.Limits().maxDepth
        #expect(throws: Never.self) { try BinaryPack.decode([UInt8](repeating: 0x91, count: limit) + [0x01]) }
        // Many small values cost memory beyond their bytes: capped.
        var many: [UInt8] = [0xdd, 0x00, 0x02, 0x00, 0x00]
        many += [UInt8](repeating: 0xc0, count: 0x20000)
        #expect(throws: SignalingError.self) { try BinaryPack.decode(many) }
    }
}

/// Small deterministic PRNG for generated tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Values in the form the decoder returns them (integers as `.int`, only non-integral finite doubles).
struct ValueGenerator {
    var random: SplitMix64
    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func value(depth: Int) -> DataValue {
        let kinds = depth >= 4 ? 8 : 10
        switch Int.random(in: 0..<kinds, using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .int(integer())
        case 3: return .uint64(UInt64.random(in: (UInt64(Int64.max) + 1)...UInt64.max, using: &random))
        case 4: return .double(double())
        case 5: return .string(string())
        case 6: return .binary((0..<length(long: true)).map { _ in UInt8.random(in: 0...255, using: &random) })
        case 7: return .int(Int64.random(in: -40...140, using: &random))
        case 8: return .array((0..<count(depth)).map { _ in value(depth: depth + 1) })
        default:
            return .map((0..<count(depth)).map { _ in
                DataValue.Entry(Bool.random(using: &random) ? .string(string()) : .int(integer()), value(depth: depth + 1))
            })
        }
    }

    /// Mostly around the width boundaries, where encoders go wrong.
    mutating func integer() -> Int64 {
        let edges: [Int64] = [0, 127, 128, 255, 256, 65535, 65536, 4_294_967_295, 4_294_967_296, .max,
                              -1, -32, -33, -128, -129, -32768, -32769, -2_147_483_648, -2_147_483_649, .min]
        switch Int.random(in: 0..<3, using: &random) {
        case 0: return edges.randomElement(using: &random)!
        case 1: return edges.randomElement(using: &random)! &+ Int64.random(in: -2...2, using: &random)
        default: return Int64.random(in: .min ... .max, using: &random)
        }
    }

    mutating func double() -> Double {
        while true {
            let d = Double(bitPattern: random.next())
            if d.isFinite, d.rounded(.down) != d { return d }
        }
    }

    /// Lengths of strings and bytes: short, sometimes past the 15-byte short form, rarely past 64 KiB.
    mutating func length(long: Bool = false) -> Int {
        switch Int.random(in: 0..<200, using: &random) {
        case 0 where long: return Int.random(in: 65_530...65_540, using: &random)
        case 1..<20: return Int.random(in: 16...40, using: &random)
        default: return Int.random(in: 0...15, using: &random)
        }
    }

    /// Element counts: small below the top, sometimes past the 15-element short form at the top.
    mutating func count(_ depth: Int) -> Int {
        if depth == 0, Int.random(in: 0..<5, using: &random) == 0 { return Int.random(in: 16...20, using: &random) }
        return Int.random(in: 0...(depth == 0 ? 15 : 4), using: &random)
    }

    mutating func string() -> String {
        let pools: [ClosedRange<UInt32>] = [0x20...0x7e, 0xa0...0x7ff, 0x800...0xd7ff, 0x1_0000...0x1_f6ff]
        var s = ""
        for _ in 0..<length() {
            let pool = pools.randomElement(using: &random)!
            if let scalar = Unicode.Scalar(UInt32.random(in: pool, using: &random)) { s.unicodeScalars.append(scalar) }
        }
        return s
    }
}
