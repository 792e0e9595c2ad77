import Media
import Signaling

/// The one rule for the CANDIDATE payload of an ICE candidate the door found, for every kind of connection
/// (answered calls, placed calls, data links in both directions).
enum LocalCandidate {
    /// `sdpMid` of a candidate on m-line `mline`: the mid the offer gives that m-line (an answer keeps the
    /// offer's mids, so the offer names them for both sides: webrtcbin's own offers say e.g. "video0", a
    /// browser's "0"), else the index as text. A browser refuses a candidate whose sdpMid names no m-line.
    static func sdpMid(mline: Int, offerSDP: String?) -> String {
        let sections = offerSDP.flatMap { try? SDPOffer(parsing: $0) }?.sections ?? []
        return sections.dropFirst(mline).first?.mid ?? String(mline)
    }

    static func payload(_ candidate: String, mline: Int, offerSDP: String?, type: ConnectionPayload.ConnectionType,
                        connectionId: String) -> CandidatePayload {
        CandidatePayload(candidate: candidate, sdpMid: sdpMid(mline: mline, offerSDP: offerSDP), sdpMLineIndex: mline,
                         type: type, connectionId: connectionId)
    }
}
