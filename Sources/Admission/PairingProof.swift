import Crypto
import DoorCore

/// The four MACs of paired browsers (docs/pairing.md; the contract is shared with the page's
/// `js/pairing-proof.js` through `suites/vectors/pairing.json`). Each is unpadded base64url of
/// HMAC-SHA256 whose key is the decoded bytes of the pairing token (16) or the pairing's credential (32), over
/// UTF-8 text that names the DTLS fingerprints of both sides of the data connection it travels on:
///
///     pair        key token       "intercom-pair:"       + offerFP + "|" + answerFP
///     paired      key token       "intercom-paired:"     + offerFP + "|" + answerFP + "|" + credential
///     hello       key credential  "intercom-ring:"       + offerFP + "|" + answerFP
///     ring reply  key credential  "intercom-ring-reply:" + offerFP + "|" + answerFP + "|" + link
///
/// offerFP / answerFP are the values of the SDPs' first `a=fingerprint:sha-256` lines in upper-case hex with
/// colons. A relay that swaps DTLS certificates makes the two ends see different fingerprints, so a MAC made
/// at one end does not hold at the other.
public enum PairingProof {
    public enum Purpose: String, Sendable, CaseIterable {
        case pair = "intercom-pair:"
        case paired = "intercom-paired:"
        case hello = "intercom-ring:"
        case ringReply = "intercom-ring-reply:"
    }

    /// The first `a=fingerprint:sha-256` value of `sdp`, upper-cased; nil if it has none of 32 bytes.
    public static func fingerprint(inSDP sdp: String) -> String? {
        guard let bytes = DTLSFingerprint.sha256Fingerprints(inSDP: sdp).first else { return nil }
        let digits = Array("0123456789ABCDEF")
        return bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }.joined(separator: ":")
    }

    static func text(_ purpose: Purpose, offerFP: String, answerFP: String, extra: String?) -> [UInt8] {
        var text = purpose.rawValue + offerFP + "|" + answerFP
        if let extra { text += "|" + extra }
        return Array(text.utf8)
    }

    /// The MAC for `purpose`; `extra` is the credential (paired) or the link (ring reply), nil otherwise.
    public static func mac(_ purpose: Purpose, key: [UInt8], offerFP: String, answerFP: String,
                           extra: String? = nil) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: text(purpose, offerFP: offerFP, answerFP: answerFP, extra: extra),
                                                   using: SymmetricKey(data: key))
        return Base64URL.encode(Array(code))
    }

    /// Checks a received MAC in constant time (swift-crypto's `isValidAuthenticationCode`); a MAC that is not
    /// 32 bytes of base64url never holds.
    public static func holds(_ mac: String, _ purpose: Purpose, key: [UInt8], offerFP: String, answerFP: String,
                             extra: String? = nil) -> Bool {
        guard !key.isEmpty, let bytes = Base64URL.decode(mac), bytes.count == 32 else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            bytes, authenticating: text(purpose, offerFP: offerFP, answerFP: answerFP, extra: extra),
            using: SymmetricKey(data: key))
    }
}
