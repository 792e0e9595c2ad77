@testable import Media
import Testing

/// An offer's H.264 parameter sets are dropped before webrtcbin compares it with the door's encoder (they never
/// match another encoder's, and the mismatch made the answer receive-only); everything else stays as it was.
@Suite struct ParameterSetsTests {
    @Test func spropGoesTheOtherFmtpParametersAndLinesStay() {
        let offer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n"
            + "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHtoFB+wF,aM48gA==;profile-level-id=42c01e\r\n"
            + "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
        #expect(CallSession.withoutParameterSets(offer) == "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
            + "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42c01e\r\n"
            + "a=fmtp:111 minptime=10;useinbandfec=1\r\n")
    }

    @Test func anFmtpLineWithOnlyParameterSetsGoesAway() {
        #expect(CallSession.withoutParameterSets("a=fmtp:96 sprop-parameter-sets=Z0LA,aM48\na=mid:0\n") == "a=mid:0\n")
    }

    @Test func anOfferWithoutThemIsUnchanged() {
        let browser = "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
        #expect(CallSession.withoutParameterSets(browser) == browser)
    }
}
