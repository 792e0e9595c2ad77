import Crypto
import DoorCore

/// ASVS 17.2.8: the certificate the peer used in the DTLS handshake must be the one its SDP's
/// `a=fingerprint` named (and the offer's MAC covered). webrtcbin's DTLS transport reports the peer's
/// certificate as PEM (`GstWebRTCDTLSTransport:remote-certificate`); this hashes its DER and compares.
public enum DTLSFingerprint {
    /// The SHA-256 fingerprints in `a=fingerprint:sha-256 AB:CD:…` lines (session or media level).
    public static func sha256Fingerprints(inSDP sdp: String) -> [[UInt8]] {
        var found: [[UInt8]] = []
        for rawLine in sdp.split(whereSeparator: \.isNewline) {
            guard rawLine.hasPrefix("a=fingerprint:") else { continue }
            let parts = rawLine.dropFirst("a=fingerprint:".count).split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "sha-256" else { continue }
            var bytes: [UInt8] = []
            for pair in parts[1].split(separator: ":") {
                guard pair.count == 2, let byte = UInt8(pair, radix: 16) else { bytes = []; break }
                bytes.append(byte)
            }
            if bytes.count == 32 { found.append(bytes) }
        }
        return found
    }

    /// SHA-256 of the DER of the first certificate in `pem`; nil if there is none.
    public static func sha256(ofPEM pem: String) -> [UInt8]? {
        guard let begin = pem.firstRange(of: "-----BEGIN CERTIFICATE-----"),
              let end = pem[begin.upperBound...].firstRange(of: "-----END CERTIFICATE-----")
        else { return nil }
        let body = pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        let urlSafe = String(body.compactMap { c -> Character? in
            switch c { case "+": "-"; case "/": "_"; case "=": nil; default: c }
        })
        guard let der = Base64URL.decode(urlSafe), !der.isEmpty else { return nil }
        return Array(SHA256.hash(data: der))
    }

    /// True when the certificate's SHA-256 is among the SDP's fingerprints.
    public static func matches(certificatePEM: String, sdp: String) -> Bool {
        guard let digest = sha256(ofPEM: certificatePEM) else { return false }
        return sha256Fingerprints(inSDP: sdp).contains(digest)
    }
}
