import FoundationEssentials
import Admission
import DoorCore
import Testing

/// `suites/vectors/pairing.json` was computed with Python's hmac/hashlib; the page's tests read the same file,
/// so both ends agree on every byte of the four MACs.
@Suite struct PairingProofTests {
    struct Vectors: Decodable {
        struct MAC: Decodable { var key: String; var text: String; var mac: String }
        var token: String
        var credential: String
        var link: String
        var offerSDP: String
        var answerSDP: String
        var offerFP: String
        var answerFP: String
        var macs: [String: MAC]
    }

    static let vectors: Vectors? = {
        let tests = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        guard let bytes = AtomicFile.read(tests + "/suites/vectors/pairing.json") else { return nil }
        return try? JSONDecoder().decode(Vectors.self, from: Data(bytes))
    }()

    func cases(_ v: Vectors) -> [(PairingProof.Purpose, String, [UInt8], String?)] {
        let token = Base64URL.decode(v.token) ?? [], credential = Base64URL.decode(v.credential) ?? []
        return [(.pair, "pair", token, nil), (.paired, "paired", token, v.credential),
                (.hello, "hello", credential, nil), (.ringReply, "ringReply", credential, v.link)]
    }

    @Test func fingerprintsAreReadFromTheSDPsUpperCased() throws {
        let v = try #require(Self.vectors)
        #expect(PairingProof.fingerprint(inSDP: v.offerSDP) == v.offerFP)
        #expect(PairingProof.fingerprint(inSDP: v.answerSDP) == v.answerFP)
        #expect(PairingProof.fingerprint(inSDP: "v=0\r\na=fingerprint:sha-1 AA:BB\r\n") == nil)
    }

    @Test func theFourMACsMatchTheSharedVectors() throws {
        let v = try #require(Self.vectors)
        #expect(Base64URL.decode(v.token)?.count == 16)
        #expect(Base64URL.decode(v.credential)?.count == 32)
        for (purpose, name, key, extra) in cases(v) {
            let expected = try #require(v.macs[name])
            #expect(PairingProof.mac(purpose, key: key, offerFP: v.offerFP, answerFP: v.answerFP, extra: extra) == expected.mac, "\(name)")
            #expect(PairingProof.holds(expected.mac, purpose, key: key, offerFP: v.offerFP, answerFP: v.answerFP, extra: extra), "\(name)")
        }
    }

    @Test func anyChangeBreaksTheMAC() throws {
        let v = try #require(Self.vectors)
        let swapped = v.answerFP.replacingOccurrences(of: "89:88", with: "89:89")
        for (purpose, name, key, extra) in cases(v) {
            let mac = try #require(v.macs[name]).mac
            #expect(!PairingProof.holds(mac, purpose, key: key, offerFP: v.offerFP, answerFP: swapped, extra: extra), "\(name) swapped fingerprint")
            #expect(!PairingProof.holds(mac, purpose, key: key, offerFP: v.answerFP, answerFP: v.offerFP, extra: extra), "\(name) sides swapped")
            #expect(!PairingProof.holds(mac, purpose, key: key.reversed(), offerFP: v.offerFP, answerFP: v.answerFP, extra: extra), "\(name) other key")
            #expect(!PairingProof.holds(mac, purpose, key: [], offerFP: v.offerFP, answerFP: v.answerFP, extra: extra), "\(name) no key")
            #expect(!PairingProof.holds(String(mac.dropLast()), purpose, key: key, offerFP: v.offerFP, answerFP: v.answerFP, extra: extra), "\(name) short")
            // A MAC for one purpose never holds for another (the texts start differently).
            for other in PairingProof.Purpose.allCases where other != purpose {
                #expect(!PairingProof.holds(mac, other, key: key, offerFP: v.offerFP, answerFP: v.answerFP, extra: extra), "\(name) as \(other)")
            }
        }
        let link = try #require(v.macs["ringReply"]).mac
        #expect(!PairingProof.holds(link, .ringReply, key: Base64URL.decode(v.credential) ?? [], offerFP: v.offerFP,
                                    answerFP: v.answerFP, extra: v.link + "x"))
    }
}
