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

/// The control socket's commands and `ctl state`.
extension Device {
    // MARK: - Control socket

    /// Every request: those that change a state file (`unpair`, `push-subscribe`, `push-unsubscribe`) reply
    /// once it is written (off the loop), the rest at once.
    func handleControl(_ json: JSONValue, reply: @escaping ControlServer.Reply) {
        guard let typed = ControlRequest(json) else { return reply(handleControl(json)) }
        switch typed.command {
        case .unpair:
            unpairControl(typed.json, reply: reply)
        case .pushKey, .pushSubscribe, .pushSubscriptions, .pushUnsubscribe:
            notifyControl(typed.command, typed.json, notifier: notifier, reply: reply)
        default:
            reply(handleControl(json))
        }
    }

    /// The requests answered at once.
    func handleControl(_ json: JSONValue) -> JSONValue {
        guard let typed = ControlRequest(json) else { return ControlRequest.unknown(json) }
        let request = typed.json
        switch typed.command {
        case .press:
            // The same checks and path as every simulated press: a field of the wrong type is an error.
            return inputs.simulated.handle(pressRequest: request)
        case .state:
            return ["ok": true, "state": stateJSON()]
        case .link:
            // The whole join link, secret included: for whoever may press the door's buttons anyway (mode 0660).
            guard let link = room?.link else { return ["ok": false, "error": "no room is open"] }
            return ["ok": true, "link": .string(link.url)]
        case .hangup:
            handle(.hangUpRequested)
            return ["ok": true]
        case .keyframe:
            guard let session = activeSession else { return ["ok": false, "error": "no call is running"] }
            session.requestKeyframe()
            return ["ok": true]
        case .camera:
            guard let off = request["off"]?.boolValue else { return ["ok": false, "error": "camera needs off: true|false"] }
            guard let session = activeSession else { return ["ok": false, "error": "no call is running"] }
            session.setCameraOff(off)
            cameraOff = off
            control?.publish(.camera(off: off))
            return ["ok": true]
        case .chat:
            return chatControl(request)
        case .connect:
            return connectControl(request)
        case .call:
            return callControl(request)
        case .disconnect:
            return disconnectControl(request)
        case .pair, .pairings:
            return pairingControl(typed.command, request)
        case .visits, .visitsDelete:
            return visitsControl(typed.command, request)
        case .unpair, .pushKey, .pushSubscribe, .pushSubscriptions, .pushUnsubscribe:
            // Answered by `handleControl(_:reply:)`, once their file is written.
            return ControlRequest.unknown(request)
        case .events:
            // The server answers `events` itself (the connection becomes an event stream).
            return ["ok": false, "error": "events is answered by the control server"]
        }
    }

    /// The running call's media, if a call is running.
    var activeSession: (any CallMedia)? {
        guard case .inCall(_, let active) = machine.phase else { return nil }
        return calls.session(active.call)
    }

    func stateJSON() -> JSONValue {
        var state: [String: JSONValue] = ["lastCall": lastCall, "phase": .string(machine.phase.name)]
        if let phaseRoom = machine.phase.room {
            state["room"] = ["code": .string(phaseRoom.code), "link": .string(room?.link.redacted ?? ""),
                             "peerId": .string(room?.gate.roomPeerID ?? ""),
                             "knockPeerId": .string(room?.gate.knockPeerID ?? "")]
        } else {
            state["room"] = .null
        }
        if let pending = machine.phase.pending {
            state["pending"] = ["peer": .string(pending.call.peer), "connectionId": .string(pending.call.connectionId),
                                "proved": .bool(pending.proved)]
        } else {
            state["pending"] = .null
        }
        if case .inCall(_, let active) = machine.phase, let record = calls[active.call], let session = record.session {
            let counts = session.counters.snapshot
            state["call"] = ["peer": .string(active.call.peer), "connectionId": .string(active.call.connectionId),
                             "connected": .bool(active.connectDeadline == nil), "muted": .bool(active.muted),
                             "videoFramesDecoded": .number(Double(counts.videoFramesDecoded)),
                             "audioBuffersDecoded": .number(Double(counts.audioBuffersDecoded)),
                             "videoWidth": .number(Double(counts.videoWidth)),
                             "videoHeight": .number(Double(counts.videoHeight)),
                             "keyframesSent": .number(Double(counts.keyframesSent)),
                             "keyframeRequests": .number(Double(counts.keyframeRequests)),
                             "keyframesForced": .number(Double(counts.keyframesForced)),
                             "videoBitrateKbps": .number(Double(counts.videoBitrateKbps)),
                             "cameraOff": .bool(cameraOff),
                             "dtlsVerified": record.dtlsVerified.map(JSONValue.bool) ?? .null]
        } else {
            state["call"] = .null
        }
        state["snapshot"] = snapshotSink.map { .string($0.latestPath) } ?? .null
        var offers: [String: JSONValue] = [:]
        for (reason, count) in room?.gate.counts ?? [:] { offers[reason] = .number(Double(count)) }
        state["admission"] = ["callSessionsCreated": .number(Double(callSessionsCreated)), "offers": .object(offers),
                              "dataOffersRefused": .number(Double(dataOffersRefused))]
        addHomeState(to: &state)
        addPairingState(to: &state)
        addVisitState(to: &state)
        return .object(state)
    }
}
