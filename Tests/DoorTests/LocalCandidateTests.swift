@testable import Door
import Signaling
import Testing

/// One rule for the sdpMid of the door's own candidates, whoever made the offer.
@Suite struct LocalCandidateTests {
    static let webrtcbinOffer = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:video0\r\na=rtpmap:96 H264/90000\r\n"
        + "m=audio 9 UDP/TLS/RTP/SAVPF 97\r\na=mid:audio1\r\na=rtpmap:97 OPUS/48000/2\r\n"
        + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:application2\r\n"
    static let browserOffer = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n"
        + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n"
    static let noMids = "v=0\r\no=- 3 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"

    @Test func theMidIsTheOnesTheOfferGivesThatMLine() {
        #expect(LocalCandidate.sdpMid(mline: 0, offerSDP: Self.webrtcbinOffer) == "video0")
        #expect(LocalCandidate.sdpMid(mline: 2, offerSDP: Self.webrtcbinOffer) == "application2")
        #expect(LocalCandidate.sdpMid(mline: 1, offerSDP: Self.browserOffer) == "1")
    }

    @Test func withoutAMidTheIndexStandsIn() {
        #expect(LocalCandidate.sdpMid(mline: 0, offerSDP: Self.noMids) == "0")
        #expect(LocalCandidate.sdpMid(mline: 3, offerSDP: Self.webrtcbinOffer) == "3")
        #expect(LocalCandidate.sdpMid(mline: 1, offerSDP: nil) == "1")
        #expect(LocalCandidate.sdpMid(mline: 0, offerSDP: "not an SDP") == "0")
    }

    @Test func thePayloadCarriesTheMidTheIndexAndTheConnection() {
        let payload = LocalCandidate.payload("candidate:1 1 udp 1 127.0.0.1 9 typ host", mline: 1,
                                             offerSDP: Self.webrtcbinOffer, type: .media, connectionId: "mc_1")
        #expect(payload.sdpMid == "audio1")
        #expect(payload.sdpMLineIndex == 1)
        #expect(payload.connectionId == "mc_1")
        #expect(payload.json["candidate"]?["sdpMid"]?.stringValue == "audio1")
    }
}
