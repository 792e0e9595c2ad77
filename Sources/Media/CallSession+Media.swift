import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop

/// What GStreamer reports about a running call (already hopped to the loop), the liveness watch, the
/// candidate pair and the bitrate from the peer's loss reports.
extension CallSession {
    // MARK: - Events from GStreamer (already hopped to the GLib thread)

    func localCandidate(mline: Int, candidate: String) {
        guard !isEnded else { return }
        if let type = WebRTCICE.candidateType(candidate) { ice.localCandidateTypes.insert(type) }
        joinTrace.mark("first candidate")
        onEvent?(.localCandidate(mline: mline, candidate: candidate))
    }

    func dataChannelArrived(_ channel: UnsafeMutablePointer<GObject>) {
        guard !isEnded else { g_object_unref(channel); return }
        elements.dataChannels.append(channel)
        connectSignal(UnsafeMutableRawPointer(channel), "on-close", link, unsafeBitCast(onDataChannelClose, to: GCallback.self))
        if ending.hangingUp {
            // We hung up while it was on its way: close it, which is what the caller hears.
            ic_data_channel_close(channel)
            ending.hangUpTimer = GLibTimer(milliseconds: 150) { [weak self] in self?.finish(.localHangUp, nil) }
        }
        Log.debug("media", "data channel from \(peer) accepted")
    }

    func dataChannelClosed() {
        guard !isEnded else { return }
        finish(ending.hangingUp ? .localHangUp : .remoteHangUp, nil)
    }

    func iceStateChanged(_ state: GstWebRTCICEConnectionState) {
        guard !isEnded else { return }
        switch state {
        case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED, GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
            // webrtcbin 1.22 moves between checking, connected and completed all through a call; only the
            // first arrival is the connection (and the moment for a keyframe).
            guard !ice.connected else { return Log.debug("media", "ICE \(state.rawValue) again with \(peer)") }
            Log.info("media", "ICE connected with \(peer)")
            joinTrace.mark("ICE connected")
            ice.connected = true
            ice.connectTimer = nil
            logSelectedPair()
            watchLiveness()
            if dtls.certificateTimer == nil, !dtls.certificateSeen { watchRemoteCertificate() }
            watchDTLSTransport()
            // A keyframe as soon as the peer can receive it: the first ones went out before DTLS was up.
            requestKeyframe()
            onEvent?(.connected)
        case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
            finish(.failed, "ICE failed; " + candidateSummary)
        case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
            if !ending.hangingUp { finish(.remoteHangUp, "ICE closed") }
        default:
            break
        }
    }

    /// From ICE connected on, a peer silent for `MediaSettings.Receiving.lostAfterMillis` ends the call as lost.
    func watchLiveness() {
        guard let webrtc, liveness.timer == nil else { return }
        let sources = liveness.arrivals.watch(webrtc)
        guard sources > 0 else { return Log.warning("media", "no nicesrc in the call with \(peer): cannot tell if it goes away") }
        let limit = engine.settings.receiving.lostAfterMillis
        liveness.timer = GLibTimer(milliseconds: PeerArrivals.checkEveryMillis, repeating: true) { [weak self] in
            guard let self, !self.isEnded, !self.ending.hangingUp else { return }
            let silence = self.liveness.arrivals.silenceMillis
            guard silence >= limit else { return }
            self.liveness.lostAfterSilenceMillis = silence
            self.finish(.lost, "nothing from the peer for \(silence) ms (\(self.liveness.arrivals.packets.load(ordering: .relaxed)) packets before)")
        }
    }


    func picture(_ picture: VideoPicture, kind: PictureTap.Kind) {
        guard !isEnded else { return }
        switch kind {
        case .caller: onEvent?(.remoteVideo(picture))
        case .selfView: onEvent?(.selfView(picture))
        }
    }

    func clockStampRead(latencyMillis: Int64) {
        guard !isEnded else { return }
        onEvent?(.clockStamp(latencyMillis: latencyMillis))
    }

    func busError(source: String, _ text: String) {
        guard !isEnded else { return }
        // While we hang up, SCTP errors are the channel going away as asked.
        if ending.hangingUp { return finish(.localHangUp, nil) }
        // A browser that closes its peer connection aborts the SCTP association; the write error that follows
        // can beat the data channel's on-close. Either way the other side hung up.
        if source.hasPrefix("sctp") || source.hasPrefix("dtls") {
            return finish(.remoteHangUp, "\(source): \(text)")
        }
        finish(.failed, "\(source): \(text)")
    }

    // MARK: - Candidate pairs

    /// What each side offered, e.g. `local candidates host, srflx; remote candidates host`: says whether a
    /// STUN or TURN server answered at all when a call does not connect.
    var candidateSummary: String {
        func list(_ types: Set<String>) -> String { types.isEmpty ? "none" : types.sorted().joined(separator: ", ") }
        return "local candidates \(list(ice.localCandidateTypes)); remote candidates \(list(ice.remoteCandidateTypes))"
    }

    func connectTimedOut() {
        guard !isEnded, !ice.connected else { return }
        finish(.failed, "no ICE candidate pair within \(WebRTCICE.connectTimeoutMillis / 1000) s "
               + "(the caller's network cannot reach the door without TURN); " + candidateSummary)
    }

    /// Logs the selected pair's candidate types (webrtcbin's stats), e.g. `relay/srflx` through TURN.
    func logSelectedPair() {
        guard let webrtc else { return }
        let promise = makePromise(link) { link, reply in
            let types = selectedPairTypes(reply)
            GLibLoop.shared.post { link.session?.selectedPairArrived(types) }
        }
        ic_webrtc_get_stats(webrtc, promise)
        gst_promise_unref(promise)
    }

    func selectedPairArrived(_ types: (local: String, remote: String)?) {
        guard !isEnded else { return }
        guard let types else { return Log.info("media", "selected candidate pair with \(peer): unknown (no stats)") }
        ice.selectedPair = "\(types.local)/\(types.remote)"
        Log.info("media", "selected candidate pair with \(peer): local \(types.local), remote \(types.remote)")
    }


    // MARK: - Bitrate from the peer's loss reports

    func requestStats() {
        guard let webrtc, !isEnded else { return }
        let promise = makePromise(link) { link, reply in
            let counts = lossCounts(reply)
            GLibLoop.shared.post { link.session?.statsArrived(counts) }
        }
        ic_webrtc_get_stats(webrtc, promise)
        gst_promise_unref(promise)
    }

    func statsArrived(_ counts: LossCounts?) {
        guard !isEnded, let counts, let codec = sending.videoCodec, var controller = sending.bitrate else { return }
        // Only a new receiver report says anything: between two, the figures stand still (and a second with
        // no report must not count as a clean one, or the bitrate climbs back while the link still drops).
        guard counts.expected > 0, counts.expected != sending.lastLossCounts?.expected else { return }
        defer { sending.lastLossCounts = (counts.lost, counts.expected) }
        guard let last = sending.lastLossCounts, counts.expected > last.expected else { return }
        // Lost over expected between the two reports: exact whatever the reports' spacing.
        let loss = min(1, Double(max(0, counts.lost - last.lost)) / Double(counts.expected - last.expected))
        if let estimate = controller.update(lossFraction: loss) {
            // On a household visit the one encoder takes the lowest phone's estimate (HouseholdVisit).
            let kbps = household?.encoderBitrate(estimate, from: self) ?? estimate
            if let (name, value) = SendPipeline.bitrateProperty(codec, kbps: kbps) {
                setProperty("venc", name, String(value))
            }
            counters.videoBitrateKbps.store(kbps, ordering: .relaxed)
            Log.info("media", "video bitrate \(kbps) kbit/s (\(Int((loss * 100).rounded())) % lost)")
        }
        sending.bitrate = controller
    }
}
