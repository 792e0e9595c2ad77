import Admission
import Buttons
import CGLib
import Control
import Display
import Glibc
import DoorCore
import MainLoop
import Media
import Notify
import Signaling

/// One media call from the door's side: refused, answered (its session and what it reports), hung up and ended.
extension Device {
    /// The caller never got an answer, so it holds no media of ours; PeerJS `LEAVE` closes its pending call
    /// (a PeerJS browser closes every connection with the sender), and `payload.reason` says why.
    func refuse(_ call: CallID, _ refusal: CallStateMachine.Refusal) {
        Log.info("intercom", "refusing \(call): \(refusal.rawValue)")
        limits.release(peer: call.peer, connectionId: call.connectionId)
        // Its data connections go with it (the LEAVE below closes them in a PeerJS browser).
        dropHeldData(peer: call.peer, "its call was refused (\(refusal.rawValue))")
        signaling(for: call)?.send(.leave(to: call.peer, LeavePayload(reason: refusal.rawValue,
                                                                      connectionId: call.connectionId)))
        calls.amend(call) { $0.offer = nil }
        rooms.router.forget(call)
        control?.publish(.refused(peer: call.peer, reason: refusal.rawValue))
    }

    /// PeerJS has no hang-up message: a PeerJS 1.5 browser hears ours when the call's data channel closes. That
    /// channel may not be open yet (SCTP comes up after ICE and DTLS; under load that took over a second), and a
    /// PeerJS 1.4 caller has none. So an answered call's end also goes over signaling: a LEAVE for this
    /// connection with reason "hangup", which the web page takes as the door's hang-up and a stock PeerJS
    /// browser answers by closing its connections with us.
    ///
    /// A 1.4 browser hears nothing else: it closes a call only on that LEAVE or when ICE fails. Its LEAVE handler
    /// closes the peer's connections while removing each from the list it walks, so with a data connection
    /// listed first (connect, then call) it skips the call. So the caller's data links close first (1.4 drops a
    /// connection from that list when its channel closes), and the LEAVE follows once that close had time to
    /// arrive. It goes even when the channel is open: a 1.4 page the door called took the door's channel at the
    /// SCTP level but threw in JavaScript, so the open channel says nothing to it.
    ///
    /// Stopping the call's pipeline holds the loop for a while (up to a second under load), so in that case
    /// the session hangs up only after the LEAVE is out.
    func sayHangUp(_ call: CallID, session: any CallMedia) {
        let inBand = session.hangUpHeardInBand
        let chatsFirst = !inBand && chats.keys.contains { $0.peer == call.peer }
        // The room's registration may stop before the LEAVE goes: hold on to it (`retire` waits).
        let client = signaling(for: call)
        let leave: @GLibActor () -> Void = {
            client?.send(.leave(to: call.peer, .hangUp(connectionId: call.connectionId)))
        }
        Log.debug("intercom", "saying the hang-up to \(call.peer) over signaling (channel \(inBand ? "open" : "not open"))")
        guard chatsFirst else {
            leave()
            return session.hangUp()
        }
        closeChats(peer: call.peer)
        let timer = GLibTimer(milliseconds: Self.leaveAfterChatsCloseMillis) { [weak self, weak session] in
            leave()
            session?.hangUp()
            guard let self else { return }
            self.calls.amend(call) { $0.hangUpLeave = nil }
            guard !self.calls.sayingHangUps else { return }
            for retired in self.retiring { retired.stop() }
            self.retiring = []
        }
        calls.amend(call) { $0.hangUpLeave = timer }
    }


    func answer(_ call: CallID) {
        guard let offer = calls[call]?.offer else { return }
        let session: any CallMedia
        do {
            session = try media.answering(call, offerSDP: offer.sdp.sdp)
        } catch {
            Log.warning("intercom", "cannot answer \(call): \(error)")
            calls.amend(call) { $0.offer = nil }
            rooms.router.forget(call)
            return handle(.callEnded(call, .failed))
        }
        calls.amend(call) { record in
            record.offer = nil
            record.session = session
        }
        // The candidates the router kept while the OFFER waited.
        let buffered = rooms.router.release(call)
        callSessionsCreated += 1
        let offerSDP = offer.sdp.sdp
        attachCall(session, call, remoteSDP: { offerSDP }) { [weak self] event in
            guard let self else { return }
            switch event {
            case .answer(let sdp):
                var payload = ConnectionPayload(sdp: SessionDescription(type: "answer", sdp: sdp), type: .media,
                                                connectionId: call.connectionId).json
                // A proved caller checks this MAC before it uses the answer: it reached the real door.
                if let proof = room?.gate.answerProof(call: call, offerSDP: offerSDP, answerSDP: sdp),
                   case .object(var fields) = payload {
                    fields["proof"] = proof
                    payload = .object(fields)
                }
                signaling(for: call)?.send(PeerJSMessage(type: .answer, dst: call.peer, payload: payload))
            case .localCandidate(let mline, let candidate):
                let payload = LocalCandidate.payload(candidate, mline: mline, offerSDP: offerSDP, type: .media,
                                                     connectionId: call.connectionId)
                signaling(for: call)?.send(PeerJSMessage(type: .candidate, dst: call.peer, payload: payload.json))
            default:
                break
            }
        }
        do { try startOrJoin(session, call) } catch {
            Log.warning("intercom", "cannot answer \(call): \(error)")
            calls.amend(call) { $0.session = nil }
            return handle(.callEnded(call, .failed))
        }
        for candidate in buffered {
            session.addRemoteCandidate(mline: candidate.sdpMLineIndex, candidate: candidate.candidate)
        }
        takeHeldData(peer: call.peer)
        control?.publish(.callStarted(peer: call.peer, connectionId: call.connectionId))
    }

    /// What every call's session reports, answered or placed: `remoteSDP` is the peer's description (its offer,
    /// or its answer to ours), whose `a=fingerprint` the DTLS certificate must match. `own` sees each event first
    /// (what differs between answering and dialling: the SDP and candidates out, a dial's end).
    func attachCall(_ session: any CallMedia, _ call: CallID, remoteSDP: @escaping @GLibActor () -> String?,
                    own: @escaping @GLibActor (CallSession.Event) -> Void) {
        // Weak: a session holding a closure that holds the session would never be freed (a leak per call).
        session.onEvent = { [weak self, weak session] event in
            own(event)
            guard let self else { return }
            switch event {
            case .offer, .answer, .localCandidate:
                break
            case .remoteCertificate(let pem):
                // The signaling path (and for proved callers, the MAC) vouched for the peer's a=fingerprint; the
                // certificate DTLS really used must be that one, or someone sits in the middle.
                let verified = remoteSDP().map { DTLSFingerprint.matches(certificatePEM: pem, sdp: $0) } ?? false
                calls.amend(call) { $0.dtlsVerified = verified }
                control?.publish(.dtls(verified: verified))
                if !verified {
                    Log.warning("intercom", "hanging up \(call): its DTLS certificate does not match the fingerprint its SDP promised")
                    handle(.hangUpRequested)
                }
            case .remoteVideo(let picture):
                display?.showVideo(picture)
            case .selfView(let picture):
                display?.showSelfView(picture)
            case .clockStamp(let millis):
                control?.publish(.clockStamp(millis: millis))
            case .connected:
                control?.publish(.callConnected(peer: call.peer))
                handle(.callConnected(call))
            case .ended(let reason, let detail):
                guard let session else { return }
                callEnded(call, session: session, reason: reason, detail: detail)
            }
        }
    }

    /// `detail`: why, when the session knows (a failed call: which candidate types it had), for `ctl state`'s
    /// `lastCall.reason` and the `call-ended` event.
    func callEnded(_ call: CallID, session: any CallMedia, reason: CallSession.EndReason, detail: String?) {
        let now = wallClockMillis()
        let counts = session.counters.snapshot
        let endedBy: CallStateMachine.EndedBy = switch reason {
        case .remoteHangUp: .remote
        case .localHangUp: .local
        case .failed: .failed
        case .lost: .lost
        }
        var summary: [String: JSONValue] = [
            "peer": .string(call.peer), "connectionId": .string(call.connectionId),
            "endedBy": .string(endedBy.rawValue), "endedAt": .number(Double(now)),
            "videoFramesDecoded": .number(Double(counts.videoFramesDecoded)),
            "audioBuffersDecoded": .number(Double(counts.audioBuffersDecoded))]
        // Lost: how long the peer had been silent when the door gave up on it (the detection time).
        if let silence = session.lostAfterSilenceMillis { summary["lostAfterSilenceMillis"] = .number(Double(silence)) }
        if let detail { summary["reason"] = .string(detail) }
        lastCall = .object(summary)
        calls.amend(call) { record in
            record.session = nil
            record.dtlsVerified = nil
        }
        closeChats(peer: call.peer)
        limits.release(peer: call.peer, connectionId: call.connectionId)
        cameraOff = false
        control?.publish(.callEnded(by: endedBy.rawValue, at: now, reason: detail))
        handle(.callEnded(call, endedBy))
        MemoryPolicy.returnFreedMemorySoon()
    }
}
