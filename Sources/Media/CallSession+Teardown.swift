import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop

/// Hanging up and the end of a call: one `.ended`, then nothing.
extension CallSession {
    /// Whether the peer hears `hangUp()` in-band: one of the call's data channels is open (PeerJS 1.5's
    /// auxiliary channel, whose close is the hang-up).
    public var hangUpHeardInBand: Bool {
        elements.dataChannels.contains { ic_object_get_enum($0, "ready-state") == Int32(GST_WEBRTC_DATA_CHANNEL_STATE_OPEN.rawValue) }
    }

    /// The peer said over signaling that it hung up (its channel was not open yet to say it in-band).
    public func peerHungUp(_ detail: String) {
        finish(.remoteHangUp, detail)
    }

    /// Hangs up: closes the data channels (what a PeerJS 1.5 browser listens for), then stops the pipeline.
    public func hangUp() {
        guard !isEnded, !ending.hangingUp else { return }
        Log.info("media", "hanging up \(peer) (\(connectionId))")
        for channel in elements.dataChannels { ic_data_channel_close(channel) }
        // Just after ICE connects the caller's channel is still on its way (SCTP comes up after DTLS), and a
        // page cannot hear a hang-up without it: wait for it (dataChannelArrived closes it), at most a second.
        let channelComing = elements.dataChannels.isEmpty && offer?.hasDataChannel == true && ice.connected
        // Give SCTP a moment to send the stream reset before DTLS goes away.
        ending.hangUpTimer = GLibTimer(milliseconds: channelComing ? 1000 : elements.dataChannels.isEmpty ? 0 : 150) { [weak self] in
            self?.finish(.localHangUp, nil)
        }
    }


    // MARK: - Teardown

    func finish(_ reason: EndReason, _ detail: String?) {
        guard !isEnded else { return }
        ending.ended = true
        ending.hangUpTimer = nil
        negotiation.offerTimer = nil
        sending.statsTimer = nil
        ice.connectTimer = nil
        dtls.certificateTimer = nil
        liveness.timer = nil
        if let detail { Log.info("media", "call with \(peer) ended (\(reason.rawValue)): \(detail)") }
        else { Log.info("media", "call with \(peer) ended (\(reason.rawValue))") }
        stopPipeline()
        let report = onEvent
        dropCallbacks()
        report?(.ended(reason, detail: detail))
    }

    /// An ended session calls nobody again, and lets go of its owner's closures: one that names the session
    /// (the owner's bookkeeping usually does) would otherwise keep it alive for the life of the process.
    func dropCallbacks() {
        onEvent = nil
    }

    func stopPipeline() {
        if elements.busWatch != 0 { g_source_remove(elements.busWatch); elements.busWatch = 0 }
        for channel in elements.dataChannels { g_object_unref(channel) }
        elements.dataChannels = []
        if leaveVisit() { return }
        // Stopped on the teardown thread: waiting for webrtcbin and the streaming threads here would hold the loop.
        PipelineReaper.shared.release(elements.pipeline, webrtc: elements.webrtc)
        elements.pipeline = nil
        elements.webrtc = nil
    }
}
