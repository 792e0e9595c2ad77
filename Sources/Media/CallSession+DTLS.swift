import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop

/// The peer's DTLS certificate (held against the SDP's fingerprint by the owner) and its transport's close.
extension CallSession {
    // MARK: - The caller's DTLS certificate


    /// DTLS completes shortly after ICE connects; look for the certificate every 100 ms for up to 10 s.
    func watchRemoteCertificate() {
        var attempts = 0
        dtls.certificateTimer = GLibTimer(milliseconds: 100, repeating: true) { [weak self] in
            guard let self, !self.isEnded else { return }
            attempts += 1
            if let pem = self.remoteCertificate() {
                self.dtls.certificateTimer = nil
                self.dtls.certificateSeen = true
                self.onEvent?(.remoteCertificate(pem))
            } else if attempts >= 100 {
                self.dtls.certificateTimer = nil
                Log.warning("media", "no DTLS certificate from \(self.peer) 10 s after ICE connected")
            }
        }
    }

    /// The (bundled) DTLS transport's `remote-certificate`.
    func remoteCertificate() -> String? {
        guard let transport = dtlsTransport() else { return nil }
        defer { g_object_unref(transport) }
        guard let pem = takeGString(ic_object_get_string(transport, "remote-certificate")), !pem.isEmpty else {
            return nil
        }
        return pem
    }

    /// transceiver 0 → its sender → the (bundled) `GstWebRTCDTLSTransport`, with a reference the caller drops.
    func dtlsTransport() -> gpointer? {
        guard let webrtc, let transceiver = ic_webrtc_get_transceiver(webrtc, 0) else { return nil }
        defer { g_object_unref(transceiver) }
        guard let sender = ic_object_get_object(transceiver, "sender") else { return nil }
        defer { g_object_unref(sender) }
        return ic_object_get_object(sender, "transport")
    }

    // MARK: - The caller's DTLS session


    /// A caller that closes its peer connection sends a DTLS close_notify, which turns the transport `closed`.
    /// That is the only hang-up signal we get when it closes before the SCTP association is up (no data channel
    /// has arrived, so there is no `on-close` to hear and no write to fail), or when it offered no data channel.
    func watchDTLSTransport() {
        guard !dtls.transportWatched else { return }
        guard let transport = dtlsTransport() else {
            return Log.debug("media", "no DTLS transport to watch for \(peer)")
        }
        defer { g_object_unref(transport) }
        dtls.transportWatched = true
        connectSignal(transport, "notify::state", link, unsafeBitCast(onDTLSStateChanged, to: GCallback.self))
        // It may have closed already.
        dtlsStateChanged(GstWebRTCDTLSTransportState(rawValue: UInt32(ic_object_get_enum(transport, "state"))))
    }

    func dtlsStateChanged(_ state: GstWebRTCDTLSTransportState) {
        if state == GST_WEBRTC_DTLS_TRANSPORT_STATE_CONNECTED, !joinTrace.has("DTLS connected") {
            joinTrace.mark("DTLS connected")
            Log.debug("media", "join trace \(peer): \(joinTrace.summary)")
        }
        guard !isEnded, !ending.hangingUp, state == GST_WEBRTC_DTLS_TRANSPORT_STATE_CLOSED else { return }
        finish(.remoteHangUp, "the caller closed DTLS")
    }
}
