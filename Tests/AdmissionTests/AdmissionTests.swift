import FoundationEssentials
import Admission
import DoorCore
import Signaling
import Testing

/// Vectors computed independently with Python's hmac/hashlib (RFC 5869 HKDF by hand); the web page's
/// `js/room-proof.js` is checked against the same ones in suites/e2e/test_security.py.
@Suite struct RoomKeysTests {
    static let secret = RoomSecret(bytes: Array(0..<16))!
    static let keys = RoomKeys(secret: secret)
    static let room = "intercom-idil3m3jattiycythz3ybqcm3q"
    static let offerSDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 AA:BB\r\n"
    static let nonce = "AAECAwQFBgcICQoL"
    static let call = CallStateMachine.CallID(peer: "page-1", connectionId: "mc_1")
    static let binding = JoinMAC.Binding(roomPeerID: room, callerPeerID: "page-1", connectionId: "mc_1", nonce: nonce)

    @Test func peerIDIsDerivedFromTheSecretNotTheCode() {
        #expect(Self.keys.roomPeerID(prefix: "intercom-") == Self.room)
        #expect(RoomKeys(secret: RoomSecret.random()).peerIDSuffix != Self.keys.peerIDSuffix)
    }

    @Test func offerAndAnswerMACsMatchTheReferenceVectors() {
        #expect(JoinMAC.offerMAC(Self.keys, Self.binding, offerSDP: Self.offerSDP) == "0e7gIyo2xj-fuUem2G6eM8dLpGrhaG0VBbff7_J6omI")
        #expect(JoinMAC.answerMAC(Self.keys, Self.binding, offerSDP: Self.offerSDP, answerSDP: "v=0\r\nanswer\r\n")
                == "YkMEXRvU5CD3biheWeg23IltNnlgZcQNb39bqfr7wI8")
    }

    func offer(_ call: CallStateMachine.CallID = call, to room: String = room, sdp: String = offerSDP,
               proof: JSONValue?) -> JoinOffer {
        JoinOffer(call: call, addressedTo: room, sdp: sdp, metadata: proof.map { ["client": "intercom-web", "proof": $0] })
    }

    var goodProof: JSONValue {
        JoinMAC.offerProof(nonce: Self.nonce, mac: JoinMAC.offerMAC(Self.keys, Self.binding, offerSDP: Self.offerSDP))
    }

    @Test func aGoodProofHoldsOnceAndAReplayDoesNot() {
        var verifier = RoomVerifier(keys: Self.keys, roomPeerID: Self.room)
        let first = verifier.verify(offer(proof: goodProof))
        let again = verifier.verify(offer(proof: goodProof))
        #expect(first == .valid)
        #expect(again == .invalid(reason: "replayed nonce"))
    }

    @Test func noProofIsAKnock() {
        var verifier = RoomVerifier(keys: Self.keys, roomPeerID: Self.room)
        let none = verifier.verify(offer(proof: nil))
        #expect(none == .absent)
        let got = verifier.verify(JoinOffer(call: Self.call, addressedTo: Self.room, sdp: "v=0", metadata: .string("x")))
        #expect(got == .absent)
    }

    @Test func everyAlteredFieldBreaksTheProof() {
        let swapped = Self.offerSDP.replacingOccurrences(of: "AA:BB", with: "AA:BC")
        let other = RoomKeys(secret: RoomSecret(bytes: Array(1...16))!)
        let forged = JoinMAC.offerProof(nonce: Self.nonce, mac: JoinMAC.offerMAC(other, Self.binding, offerSDP: Self.offerSDP))
        let cases: [(String, JoinOffer)] = [
            ("fingerprint swapped", offer(sdp: swapped, proof: goodProof)),
            ("another caller replays it", offer(.init(peer: "page-2", connectionId: "mc_1"), proof: goodProof)),
            ("another connection", offer(.init(peer: "page-1", connectionId: "mc_2"), proof: goodProof)),
            ("sent to the knock ID", offer(to: "intercom-04321", proof: goodProof)),
            ("an earlier room's key", offer(proof: forged)),
        ]
        for (name, bad) in cases {
            var verifier = RoomVerifier(keys: Self.keys, roomPeerID: Self.room)
            let got = verifier.verify(bad)
            #expect(got == .invalid(reason: "wrong MAC"), "\(name)")
        }
    }

    @Test func malformedProofsAreDroppedNotKnocks() {
        let mac = JoinMAC.offerMAC(Self.keys, Self.binding, offerSDP: Self.offerSDP)
        let bad: [JSONValue] = [
            .string("x"), ["v": 2, "n": .string(Self.nonce), "mac": .string(mac)],
            ["v": 1, "n": "short", "mac": .string(mac)], ["v": 1, "n": .string(Self.nonce), "mac": "AAAA"],
            ["v": 1, "n": .string(Self.nonce)], ["v": 1, "n": .string(Self.nonce), "mac": .string(mac), "x": 1],
            ["v": 1, "n": .number(3), "mac": .string(mac)],
        ]
        for proof in bad {
            var verifier = RoomVerifier(keys: Self.keys, roomPeerID: Self.room)
            let got = verifier.verify(offer(proof: proof))
            #expect(got == .invalid(reason: "malformed proof"), "\(proof)")
        }
        var verifier = RoomVerifier(keys: Self.keys, roomPeerID: Self.room)
        let huge = String(repeating: "a=x\r\n", count: 8000)
        let got = verifier.verify(offer(sdp: huge, proof: goodProof))
        #expect(got == .invalid(reason: "SDP too large"))
    }

    @Test func answerProofIsTheAnswerMAC() {
        let verifier = RoomVerifier(keys: Self.keys, roomPeerID: Self.room)
        let proof = verifier.answerProof(call: Self.call, nonce: Self.nonce, offerSDP: Self.offerSDP, answerSDP: "v=0\r\nanswer\r\n")
        #expect(proof == ["v": 1, "mac": "YkMEXRvU5CD3biheWeg23IltNnlgZcQNb39bqfr7wI8"])
    }
}

@Suite struct DTLSFingerprintTests {
    // A throwaway self-signed certificate; its fingerprint as `openssl x509 -fingerprint -sha256` printed it.
    static let pem = """
        -----BEGIN CERTIFICATE-----
        MIIBcjCCARmgAwIBAgIUOVjkJYCEYy43NaOF/DvG8DYeFsEwCgYIKoZIzj0EAwIw
        DzENMAsGA1UEAwwEdGVzdDAeFw0yNjExMjUxNDA1MzBaFw0yNjExMjYxNDA1MzBa
        MA8xDTALBgNVBAMMBHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT/bp6q
        R8ab2AAibHoskbpQNpTuSTPXknTOR5P/x+garsw58voIBy2YeZxz5qruBklum4E9
        yAxmTfSrKcPUYIGZo1MwUTAdBgNVHQ4EFgQUOYgSnFyuZr0VdtgGPXAis5jYEiEw
        HwYDVR0jBBgwFoAUOYgSnFyuZr0VdtgGPXAis5jYEiEwDwYDVR0TAQH/BAUwAwEB
        /zAKBggqhkjOPQQDAgNHADBEAiAjuT+DQR6g91MJU35nS6GbkYVId1SaTC75+noi
        P8rXegIgYf28EWPiX1ipEZaS4Go9pS+MeF2LFpJoLrCi+oz2p5E=
        -----END CERTIFICATE-----

        """
    static let fingerprint = "F0:B2:85:42:A8:60:5F:7F:08:F2:16:BC:0E:25:FA:8A:11:D8:BA:90:5A:9D:74:35:6E:F0:59:35:D7:04:AC:7E"

    @Test func theCertificateMatchesItsFingerprintAndNoOther() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 \(Self.fingerprint)\r\n"
        #expect(DTLSFingerprint.matches(certificatePEM: Self.pem, sdp: sdp))
        #expect(DTLSFingerprint.matches(certificatePEM: Self.pem, sdp: sdp.lowercased()))
        let swapped = sdp.replacingOccurrences(of: "F0:B2", with: "F0:B3")
        #expect(!DTLSFingerprint.matches(certificatePEM: Self.pem, sdp: swapped))
        #expect(!DTLSFingerprint.matches(certificatePEM: "garbage", sdp: sdp))
        #expect(!DTLSFingerprint.matches(certificatePEM: Self.pem, sdp: "v=0\r\n"))
    }
}

/// The home ID's vector computed independently with Python's hashlib.
@Suite struct HomePeerIDTests {
    @Test func homeIDIsTheHashOfTheDeviceID() {
        let id = HomePeerID.make(prefix: "intercom-", deviceID: "0123456789abcdef0123456789abcdef")
        #expect(id == "intercom-home-5d5f4d56e82fb5e4fde612b78af67ee7")
        #expect(isValidPeerID(id))
    }

    @Test func withoutADeviceIDEachProcessDrawsItsOwn() {
        let a = HomePeerID.random(prefix: "door-"), b = HomePeerID.random(prefix: "door-")
        #expect(a != b && a.hasPrefix("door-home-") && a.count == "door-home-".count + 32 && isValidPeerID(a))
    }
}
