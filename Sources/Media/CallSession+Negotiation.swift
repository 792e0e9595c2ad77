import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop

/// Offer and answer: remote descriptions in, local ones out as `.offer` / `.answer`.
extension CallSession {
    // MARK: - Negotiation

    func setRemoteDescription(_ text: String, type: GstWebRTCSDPType) throws(MediaError) {
        let description = try sessionDescription(text, type: type, what: "the remote SDP")
        let promise = makePromise(link) { link, reply in
            let failure = promiseError(reply)
            GLibLoop.shared.post { link.session?.remoteDescriptionSet(error: failure) }
        }
        ic_webrtc_set_remote_description(webrtc, description, promise)
        gst_promise_unref(promise)
        gst_webrtc_session_description_free(description)
    }

    /// Offering: the peer's answer. Ignored when answering, after the first, or after the end.
    public func setRemoteAnswer(_ sdp: String) throws(MediaError) {
        guard isOffering, !negotiation.answerGiven, !isEnded, webrtc != nil else { return }
        negotiation.answerGiven = true
        Log.debug("media", "answer from \(peer): \(sdp.split(separator: "\r\n").joined(separator: " | "))")
        try setRemoteDescription(sdp, type: GST_WEBRTC_SDP_TYPE_ANSWER)
    }

    func remoteDescriptionSet(error: String?) {
        guard !isEnded, let webrtc else { return }
        if let error { return finish(.failed, "set-remote-description failed: \(error)") }
        negotiation.remoteDescriptionApplied = true
        joinTrace.mark("remote description set")
        // From here both descriptions are known and ICE is at work: the bound starts (a placed call may ring
        // for longer than it before anyone answers).
        if !ice.connected {
            ice.connectTimer = GLibTimer(milliseconds: UInt32(WebRTCICE.connectTimeoutMillis)) { [weak self] in
                self?.connectTimedOut()
            }
        }
        for early in negotiation.earlyCandidates.drain() { ic_webrtc_add_ice_candidate(webrtc, guint(early.mline), early.candidate) }
        guard !isOffering else { return }
        createDescription(webrtc, offer: false, link) { link, answer, error in
            link.session?.answerCreated(answer, error: error)
        }
    }

    /// Offering: receive-only transceivers for what we do not send, the hang-up data channel, then the offer.
    func makeOffer(receiveVideo: Bool, receiveAudio: Bool) throws(MediaError) {
        guard let webrtc else { return }
        if receiveVideo { addReceiveOnly(SendPipeline.receiveOnlyVideoCaps) }
        if receiveAudio { addReceiveOnly(SendPipeline.receiveOnlyAudioCaps) }
        // As a PeerJS 1.5 caller does: label "undefined", unordered. Closing it is our hang-up.
        let options = gst_structure_from_string("options, ordered=(boolean)false", nil)
        defer { if let options { gst_structure_free(options) } }
        guard let channel = ic_webrtc_create_data_channel(webrtc, "undefined", options) else {
            throw MediaError(.pipelineFailed, "webrtcbin would not create the call's data channel")
        }
        elements.dataChannels.append(channel)
        connectSignal(UnsafeMutableRawPointer(channel), "on-close", link, unsafeBitCast(onDataChannelClose, to: GCallback.self))
        // webrtcbin writes a track's `a=ssrc … msid:` only once its send pad has caps (the first encoded frame):
        // without it the browser's track has no stream and the page shows no picture. So wait for them.
        var attempts = 0
        negotiation.offerTimer = GLibTimer(milliseconds: 20, repeating: true) { [weak self] in
            guard let self, !self.isEnded else { return }
            attempts += 1
            guard self.sendPadsHaveCaps() || attempts >= 150 else { return }
            if attempts >= 150 { Log.warning("media", "calling \(self.peer): send branches gave no caps in 3 s; offering anyway") }
            self.negotiation.offerTimer = nil
            self.createOffer()
        }
    }


    /// Whether every sink pad of webrtcbin (one per send branch) has negotiated caps.
    func sendPadsHaveCaps() -> Bool {
        guard let webrtc else { return false }
        var node = webrtc.pointee.sinkpads
        while let current = node {
            if let data = current.pointee.data,
               gst_pad_has_current_caps(data.assumingMemoryBound(to: GstPad.self)) == 0 { return false }
            node = current.pointee.next
        }
        return true
    }

    func createOffer() {
        guard let webrtc, !isEnded else { return }
        createDescription(webrtc, offer: true, link) { link, offer, error in
            link.session?.offerCreated(offer, error: error)
        }
    }

    func addReceiveOnly(_ capsText: String) {
        guard let webrtc, let caps = gst_caps_from_string(capsText) else { return }
        defer { gst_caps_unref(caps) }
        if let transceiver = ic_webrtc_add_transceiver(webrtc, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps) {
            g_object_unref(transceiver)
        }
    }

    func offerCreated(_ offer: UnsafeMutablePointer<GstWebRTCSessionDescription>?, error: String?) {
        guard let offer else { return finish(.failed, "create-offer failed: \(error ?? "no offer in the reply")") }
        defer { gst_webrtc_session_description_free(offer) }
        guard !isEnded else { return }
        ic_webrtc_set_local_description(webrtc, offer, nil)
        guard let text = takeGString(gst_sdp_message_as_text(offer.pointee.sdp)) else {
            return finish(.failed, "the offer has no SDP text")
        }
        Log.debug("media", "offer to \(peer): \(text.split(separator: "\r\n").joined(separator: " | "))")
        onEvent?(.offer(text))
    }

    func answerCreated(_ answer: UnsafeMutablePointer<GstWebRTCSessionDescription>?, error: String?) {
        guard let answer else {
            return finish(.failed, "create-answer failed: \(error ?? "no answer in the reply")")
        }
        defer { gst_webrtc_session_description_free(answer) }
        guard !isEnded else { return }
        ic_webrtc_set_local_description(webrtc, answer, nil)
        guard let text = takeGString(gst_sdp_message_as_text(answer.pointee.sdp)) else {
            return finish(.failed, "the answer has no SDP text")
        }
        if !text.contains("a=sendrecv") {
            Log.warning("media", "the answer to \(peer) sends nothing (recvonly): payload types did not match")
        }
        joinTrace.mark("answer")
        onEvent?(.answer(text))
    }
}
