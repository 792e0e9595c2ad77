import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop

/// A phone joining a running household visit (docs/household.md): instead of `start()`, which builds a
/// pipeline with a camera and encoders of its own, `join(_:)` puts this call's webrtcbin into the visit's
/// pipeline behind the encoders' tees, then answers the offer as any call does.
extension CallSession {
    /// Answers this session's offer on `host`'s running pipeline (the visit forms around `host` at the first
    /// join). The joiner keeps everything else of a call: its own ICE, DTLS, data channel, liveness watch, a
    /// bitrate estimate from its loss reports (the visit runs the one encoder at the lowest) and `.ended`.
    public func join(_ host: CallSession) throws(MediaError) {
        guard let offer = negotiation.offer, let offerText = negotiation.offerText else { throw MediaError(.negotiationFailed, "only an answered call can join a visit") }
        guard !isEnded, elements.pipeline == nil else { throw MediaError(.pipelineFailed, "\(peer)'s call is already running") }
        let visit: HouseholdVisit
        if let formed = host.household { visit = formed } else { visit = try HouseholdVisit(host: host) }
        host.household = visit
        try visit.add(self, offer: offer, jitterLatencyMillis: engine.settings.jitterLatencyMillis) { webrtc in
            WebRTCICE.apply(to: webrtc)
            let raw = UnsafeMutableRawPointer(webrtc)
            connectSignal(raw, "on-ice-candidate", link, unsafeBitCast(onIceCandidate, to: GCallback.self))
            connectSignal(raw, "pad-added", link, unsafeBitCast(onWebRTCPadAdded, to: GCallback.self))
            connectSignal(raw, "on-data-channel", link, unsafeBitCast(onDataChannel, to: GCallback.self))
            connectSignal(raw, "notify::ice-connection-state", link, unsafeBitCast(onIceStateChanged, to: GCallback.self))
        }
        // Its own loss reports make its own estimate; the visit runs the encoder at the lowest.
        if host.sending.videoCodec != nil {
            sending.videoCodec = host.sending.videoCodec
            sending.bitrate = BitrateController(ceilingKbps: engine.plan.bitrateKbps)
            sending.statsTimer = GLibTimer(milliseconds: 1000, repeating: true) { [weak self] in self?.requestStats() }
        }
        joinTrace.mark("playing")
        try setRemoteDescription(Self.withoutParameterSets(offerText), type: GST_WEBRTC_SDP_TYPE_OFFER)
        Log.info("media", "answering \(peer) (\(connectionId)) on the visit of \(host.peer); "
                 + "\(visit.phoneCount) phone(s) on")
    }

    /// The phones on this call's visit, 1 when it is a call of its own.
    public var visitPhoneCount: Int { household?.phoneCount ?? 1 }

    /// `stopPipeline`'s part for a call on a visit: the visit takes this call's branches out (or, for the last
    /// phone, stops the pipeline). False when the call is not on a visit.
    func leaveVisit() -> Bool {
        guard let visit = household else { return false }
        household = nil
        visit.leave(ObjectIdentifier(self), webrtc: elements.webrtc)
        elements.pipeline = nil
        elements.webrtc = nil
        return true
    }
}
