import Crypto
import FoundationEssentials

/// Message encryption for Web Push (RFC 8291) in the `aes128gcm` content coding (RFC 8188): an ECDH P-256
/// agreement between a fresh key of ours and the browser's `p256dh` key, mixed with its `auth` secret by
/// HKDF-SHA-256, then one AES-128-GCM record. Only the browser that subscribed can read the payload; the push
/// service in between sees ciphertext.
public enum WebPushEncryption {
    /// The record size written in the header; one record carries the whole (small) payload.
    static let recordSize: UInt32 = 4096

    /// The request body: salt ‖ record size ‖ key length ‖ our public key ‖ ciphertext with tag.
    /// - Parameters:
    ///   - receiverKey: the subscription's `p256dh`, an uncompressed P-256 point (65 bytes).
    ///   - authSecret: the subscription's `auth`, 16 bytes.
    ///   - senderKey, salt: fixed only by tests (RFC 8291 Appendix A); fresh and random otherwise.
    public static func encrypt(_ plaintext: [UInt8], receiverKey: [UInt8], authSecret: [UInt8],
                               senderKey: P256.KeyAgreement.PrivateKey = P256.KeyAgreement.PrivateKey(),
                               salt: [UInt8]? = nil) throws(NotifyError) -> [UInt8] {
        guard authSecret.count == 16 else { throw NotifyError(.setup, "push auth secret is \(authSecret.count) bytes, not 16") }
        let receiver: P256.KeyAgreement.PublicKey
        do { receiver = try P256.KeyAgreement.PublicKey(x963Representation: receiverKey) } catch {
            throw NotifyError(.setup, "push p256dh key is not a P-256 point")
        }
        let salt = salt ?? (0..<16).map { _ in UInt8.random(in: 0...255) }
        let senderPublic = Array(senderKey.publicKey.x963Representation)
        let shared: SharedSecret
        do { shared = try senderKey.sharedSecretFromKeyAgreement(with: receiver) } catch {
            throw NotifyError(.setup, "push key agreement failed: \(error)")
        }
        let sharedBytes = shared.withUnsafeBytes { Array($0) }

        // RFC 8291 §3.4: IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" ‖ 0 ‖ ua_public ‖ as_public, 32).
        let keyInfo = Array("WebPush: info".utf8) + [0] + receiverKey + senderPublic
        let inputKey = hkdf(salt: authSecret, key: sharedBytes, info: keyInfo, count: 32)
        // RFC 8188 §2.2, §2.3: the content-encryption key and the nonce.
        let contentKey = hkdf(salt: salt, key: inputKey, info: Array("Content-Encoding: aes128gcm".utf8) + [0], count: 16)
        let nonce = hkdf(salt: salt, key: inputKey, info: Array("Content-Encoding: nonce".utf8) + [0], count: 12)

        // One record, so it is the last: its padding delimiter is 2 (RFC 8188 §2).
        let sealed: AES.GCM.SealedBox
        do {
            sealed = try AES.GCM.seal(plaintext + [2], using: SymmetricKey(data: contentKey),
                                      nonce: try AES.GCM.Nonce(data: nonce))
        } catch {
            throw NotifyError(.setup, "AES-GCM failed: \(error)")
        }
        var header = salt
        header += withUnsafeBytes(of: recordSize.bigEndian) { Array($0) }
        header.append(UInt8(senderPublic.count))
        header += senderPublic
        return header + Array(sealed.ciphertext) + Array(sealed.tag)
    }

    static func hkdf(salt: [UInt8], key: [UInt8], info: [UInt8], count: Int) -> [UInt8] {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: key), salt: salt, info: info,
                                             outputByteCount: count)
        return derived.withUnsafeBytes { Array($0) }
    }
}
