import DoorCore

extension CallSession {
    /// What a call session reports to its owner, in order, on the loop thread (`CallSession.onEvent`).
    public enum Event: Sendable {
        /// Offering: the local offer SDP, once (send it as OFFER).
        case offer(String)
        /// Answering: the local answer SDP, once (send it as ANSWER).
        case answer(String)
        /// A local ICE candidate (send it as CANDIDATE).
        case localCandidate(mline: Int, candidate: String)
        /// ICE reached connected/completed, once per call (later ICE state changes are not new connections).
        case connected
        /// The peer's DTLS certificate (PEM) once the handshake is done, so the owner can hold it against the
        /// fingerprint the remote SDP promised; at most once.
        case remoteCertificate(String)
        /// A decoded picture of the peer, scaled for the screen (only when `MediaSettings.Screen.remoteVideoWidth` > 0).
        case remoteVideo(VideoPicture)
        /// The device's own camera picture, small, for the self-view (only when `MediaSettings.Screen.selfViewWidth` > 0).
        case selfView(VideoPicture)
        /// With `MediaSettings.Extras.clockStamp`: a stamp read from the peer's decoded video, as the milliseconds from
        /// the stamp's time to its reading.
        case clockStamp(latencyMillis: Int64)
        /// Once, last, when the call is over for any reason; the pipeline is already stopped. `detail` says why
        /// when the session knows (a failed call: which candidate types each side had).
        case ended(EndReason, detail: String?)
    }
}
