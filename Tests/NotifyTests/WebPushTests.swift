import Crypto
import FoundationEssentials
import DoorCore
import Testing
@testable import Notify

private func bytes(_ text: String) throws -> [UInt8] { try #require(Base64URL.decode(text)) }

@Suite struct WebPushTests {
    /// RFC 8291 §5 and Appendix A: with its sender key and salt, the body must come out byte for byte.
    @Test func encryptionMatchesTheRFC8291Example() throws {
        let sender = try P256.KeyAgreement.PrivateKey(rawRepresentation: bytes("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
        let body = try WebPushEncryption.encrypt(
            Array("When I grow up, I want to be a watermelon".utf8),
            receiverKey: bytes("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            authSecret: bytes("BTBZMqHH6r4Tts7J_aSIgg"), senderKey: sender, salt: bytes("DGv6ra1nlYgDCS1FRnbzlw"))
        #expect(Base64URL.encode(body) == "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
    }

    @Test func badSubscriptionKeysAreRefused() {
        #expect(throws: NotifyError.self) {
            try WebPushEncryption.encrypt([1], receiverKey: [4] + [UInt8](repeating: 1, count: 64), authSecret: [UInt8](repeating: 0, count: 16))
        }
        #expect(throws: NotifyError.self) {
            try WebPushEncryption.encrypt([1], receiverKey: Array(P256.KeyAgreement.PrivateKey().publicKey.x963Representation), authSecret: [1, 2])
        }
    }

    @Test func theVAPIDTokenIsAnES256JWTForThePushServicesOrigin() throws {
        let key = VAPIDKey(privateKey: P256.Signing.PrivateKey())
        let header = try key.authorization(endpoint: "https://push.example.net:8443/wpush/v2/abc?x", subject: "mailto:a@b.c",
                                           expiresAt: 1_800_000_000)
        let parts = header.split(separator: " ")
        #expect(parts.count == 3 && parts[0] == "vapid")
        #expect(parts[2] == "k=\(key.publicKeyText)")
        let token = String(parts[1].dropFirst(2).dropLast())  // t=… ,
        let pieces = token.split(separator: ".").map(String.init)
        #expect(pieces.count == 3)
        let claims = try JSONDecoder().decode(JSONValue.self, from: Data(try bytes(pieces[1])))
        #expect(claims == ["aud": "https://push.example.net:8443", "exp": 1_800_000_000, "sub": "mailto:a@b.c"])
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(try bytes(pieces[0]))) == ["typ": "JWT", "alg": "ES256"])
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: bytes(pieces[2]))
        #expect(key.privateKey.publicKey.isValidSignature(signature, for: Array("\(pieces[0]).\(pieces[1])".utf8)))
        let other = P256.Signing.PrivateKey().publicKey
        #expect(!other.isValidSignature(signature, for: Array("\(pieces[0]).\(pieces[1])".utf8)))
    }

    /// What the page's service worker reads (docs/pairing.md): `t`, `door`, `code`, `link`, `expiresAt`.
    @Test func thePayloadCarriesWhatPairedBrowsersShow() throws {
        let link = "http://door.local/?room=04217#k=AAECAwQFBgcICQoLDA0ODw"
        let ring = RingNotice(doorName: "Front door", code: "04217", link: link, timeMillis: 1_795_615_304_312,
                              expiresAtMillis: 1_795_615_424_312)
        let payload = try JSONDecoder().decode(JSONValue.self, from: Data(WebPushMessage.payload(for: ring)))
        #expect(payload["t"] == "ring" && payload["door"] == "Front door" && payload["code"] == "04217")
        #expect(payload["link"]?.stringValue == link && payload["url"]?.stringValue == link)
        #expect(payload["expiresAt"]?.numberValue == 1_795_615_424_312)
        let plain = RingNotice(doorName: "Front door", code: "04217", link: link, timeMillis: 0)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(WebPushMessage.payload(for: plain)))["expiresAt"] == nil)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(WebPushMessage.payload(for: plain)))["picture"] == nil)
    }

    /// The ring's picture is too big for a push message: only its id goes, for the page to ask for.
    @Test func thePayloadNamesThePictureByID() throws {
        var ring = RingNotice(doorName: "Front door", code: "04217", link: "http://door.local/?room=04217", timeMillis: 0)
        ring.pictureID = "p1cture-1d"
        let payload = WebPushMessage.payload(for: ring)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(payload))["picture"] == "p1cture-1d")
        #expect(payload.count < 3000)
    }
}
