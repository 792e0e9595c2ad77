import Testing
@testable import Media

/// The answer only carries our media when the send branches use the offer's payload types, so the choice of
/// payload type is tested against offers shaped like real browsers' (docs/signaling.md#what-browsers-offer).
@Suite struct SDPOfferTests {
    /// Shaped like Chromium 156's `peer.call()` offer: audio, video (VP8 first, H.264 variants), data channel.
    static let chromeOffer = [
        "v=0", "o=- 4611 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1 2",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126", "c=IN IP4 0.0.0.0", "a=mid:0", "a=sendrecv",
        "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1", "a=rtpmap:63 red/48000/2",
        "a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109", "c=IN IP4 0.0.0.0", "a=mid:1",
        "a=sendrecv", "a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
        "a=rtpmap:102 H264/90000",
        "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
        "a=rtpmap:103 H264/90000",
        "a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f",
        "a=rtpmap:104 H264/90000",
        "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
        "a=rtpmap:106 H264/90000",
        "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        "a=rtpmap:108 H264/90000",
        "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0", "a=mid:2", "a=sctp-port:5000",
    ].joined(separator: "\r\n") + "\r\n"

    @Test func picksConstrainedBaselinePacketizationMode1() throws {
        let offer = try SDPOffer(parsing: Self.chromeOffer)
        #expect(offer.preferredH264()?.type == 106) // 42e01f pm=1, not VP8 96 nor pm=0 104
        #expect(offer.preferredOpus()?.type == 111)
        #expect(offer.hasDataChannel)
        #expect(offer.sections.map(\.kind) == ["audio", "video", "application"])
    }

    @Test func fallsBackTo42001fThenAnyBaselinePm1() throws {
        let without42e01f = Self.chromeOffer.replacingOccurrences("profile-level-id=42e01f", "profile-level-id=640c1f")
        #expect(try SDPOffer(parsing: without42e01f).preferredH264()?.type == 102)
        let only4d = Self.chromeOffer.replacingOccurrences("profile-level-id=42001f", "profile-level-id=640c1f")
            .replacingOccurrences("profile-level-id=42e01f", "profile-level-id=640c1f")
        #expect(try SDPOffer(parsing: only4d).preferredH264() == nil)
    }

    @Test func noH264MeansNoVideoChoice() throws {
        let vp8Only = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "m=video 9 UDP/TLS/RTP/SAVPF 96",
                       "a=rtpmap:96 VP8/90000"].joined(separator: "\r\n")
        let offer = try SDPOffer(parsing: vp8Only)
        #expect(offer.preferredH264() == nil)
        #expect(offer.preferredOpus() == nil)
    }

    @Test func followsThePayloadTypeNumbersOfEachBrowser() throws {
        // Another browser build numbers H.264 42e01f pm=1 as 127.
        let renumbered = Self.chromeOffer.replacingOccurrences("106", "127")
        #expect(try SDPOffer(parsing: renumbered).preferredH264()?.type == 127)
    }

    @Test func rejectsGarbageAndOversizedOffers() {
        #expect(throws: MediaError.self) { try SDPOffer(parsing: "hello") }
        #expect(throws: MediaError.self) { try SDPOffer(parsing: "v=0\r\n") }
        let huge = "v=0\r\n" + String(repeating: "a=x\r\n", count: 10_000)
        #expect(throws: MediaError.self) { try SDPOffer(parsing: huge) }
        let many = "v=0\r\n" + String(repeating: "m=audio 9 RTP/AVP 0\r\n", count: 9)
        #expect(throws: MediaError.self) { try SDPOffer(parsing: many) }
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
