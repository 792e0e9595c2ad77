import DoorCore
@testable import Signaling
import Testing

/// Bounded random-input runs over the decoders the network reaches before anyone is authenticated: the
/// PeerJS frame decoder with the OFFER/CANDIDATE payload parsers, and BinaryPack. Seeded, a fixed number of
/// iterations, so a failure reproduces; the property is "returns or throws, never crashes or hangs".
@Suite struct SignalingFuzzTests {
    /// SplitMix64: small, seedable, good enough to pick mutations.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
        mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    }

    static let frames: [String] = [
        #"{"type":"OPEN"}"#,
        #"{"type":"HEARTBEAT"}"#,
        #"{"type":"EXPIRE","src":"intercom-12345","dst":"me"}"#,
        #"{"type":"OFFER","src":"p1","dst":"intercom-12345","payload":{"sdp":{"type":"offer","sdp":"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"},"type":"media","connectionId":"mc_abc","metadata":{"client":"intercom-web","proof":{"v":1,"n":"AAECAwQFBgcICQoL","mac":"0e7gIyo2xj-fuUem2G6eM8dLpGrhaG0VBbff7_J6omI"}}}}"#,
        #"{"type":"CANDIDATE","src":"p1","dst":"x","payload":{"candidate":{"candidate":"candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host","sdpMid":"0","sdpMLineIndex":0},"type":"media","connectionId":"mc_abc"}}"#,
        #"{"type":"LEAVE","src":"p1","dst":"x","payload":{"reason":"busy","connectionId":"mc_abc"}}"#,
        #"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
        #"{"type":"OFFER","payload":{"metadata":1e99999,"sdp":{"sdp":"\ud800"}}}"#,
    ]
    static let tokens = ["{", "}", "[", "]", ",", ":", "\"", "\\u0000", "\\ud800", "1e308", "-0", "null", "true",
                         "\"type\"", "\"OFFER\"", "\"payload\"", "\"sdp\"", "\u{00ff}", "\u{1F600}", "\\"]

    static func mutate(_ seed: [UInt8], _ random: inout Random) -> [UInt8] {
        var bytes = seed
        for _ in 0...random.below(8) {
            switch random.below(7) {
            case 0 where !bytes.isEmpty: bytes[random.below(bytes.count)] = random.byte()
            case 1: bytes.insert(random.byte(), at: random.below(bytes.count + 1))
            case 2 where !bytes.isEmpty: bytes.remove(at: random.below(bytes.count))
            case 3: bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
            case 4: bytes.insert(contentsOf: Array(tokens[random.below(tokens.count)].utf8), at: random.below(bytes.count + 1))
            case 5 where bytes.count > 2:
                let start = random.below(bytes.count)
                let slice = bytes[start..<min(bytes.count, start + 1 + random.below(64))]
                bytes.insert(contentsOf: Array(slice), at: random.below(bytes.count + 1))
            default: bytes.append(random.byte())
            }
        }
        return bytes
    }

    @Test func peerJSFramesNeverCrashTheDecoder() {
        var random = Random(state: 0x1D00_5EC0)
        var decoded = 0
        for iteration in 0..<30_000 {
            let seed = Array(Self.frames[iteration % Self.frames.count].utf8)
            let text = String(decoding: Self.mutate(seed, &random), as: UTF8.self)
            guard let message = try? PeerJSMessage.decode(text) else { continue }
            decoded += 1
            _ = try? ConnectionPayload(message.payload)
            _ = try? CandidatePayload(message.payload)
            _ = message.encoded()
        }
        // Some mutations stay valid: the run reached the payload parsers, not only the JSON layer.
        #expect(decoded > 500, "only \(decoded) frames decoded")
        // Nesting far deeper than any real frame is refused, not recursed into.
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: SignalingError.self) { try PeerJSMessage.decode(deep) }
    }

    @Test func binaryPackInputNeverCrashesTheDecoder() {
        var random = Random(state: 0xB1_9A_C4)
        let seeds: [[UInt8]] = [
            BinaryPack.encode(.map([DataValue.Entry(.string("t"), .string("chat")), DataValue.Entry(.string("n"), .int(2))])),
            [0xdd, 0xff, 0xff, 0xff, 0xff], [0xdf, 0x7f, 0xff, 0xff, 0xff], [0xdb, 0xff, 0xff, 0xff, 0xf0, 1, 2],
            Array(repeating: 0x91, count: 5000) + [0xc0],
            [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], [0xd9, 0, 0, 0, 3, 0xff, 0xfe, 0xfd],
        ]
        var decoded = 0
        for iteration in 0..<50_000 {
            let input = iteration % 3 == 0
                ? (0..<random.below(48)).map { _ in random.byte() }
                : Self.mutate(seeds[iteration % seeds.count], &random)
            if (try? BinaryPack.decode(input)) != nil { decoded += 1 }
        }
        #expect(decoded > 100, "only \(decoded) inputs decoded")
    }
}
