import Control
import DoorCore
import MainLoop
import Media
import Synchronization

/// The household visit, the device's side (docs/household.md): a paired browser that proved itself in this
/// ring answers as household, the others are told "in-visit" instead of "answered elsewhere", and their
/// offers join the running call on its pipeline (`CallSession.join`); the control socket hears who joins and
/// leaves, and `ctl state` lists the phones with the energy of each one's voice at the door's mixer.
extension Device {
    /// The machine's event for a media OFFER the room's gate let in.
    func roomOfferEvent(_ call: CallID, proved: Bool) -> CallStateMachine.Event {
        guard proved, paired?.household.name(of: call.peer) != nil else { return .offer(call, proved: proved) }
        return .pairedOffer(call)
    }

    /// What the other paired browsers hear when `call` takes the ring: `in-visit` (they may join) when a
    /// paired browser answered and a visit takes more than one phone, else `answered-elsewhere`.
    func ringOverReason(answeredBy call: CallID) -> String {
        guard case .inCall(_, let active) = machine.phase, active.call == call, active.household,
              machine.settings.maxPhones > 1 else { return "answered-elsewhere" }
        return "in-visit"
    }

    /// Starts an answered call's media: a phone joining the running visit goes onto the first phone's
    /// pipeline, any other call builds its own.
    func startOrJoin(_ session: any CallMedia, _ call: CallID) throws(MediaError) {
        guard case .inCall(_, let active) = machine.phase, active.phones.contains(call) else { return try session.start() }
        guard let joiner = session as? CallSession, let host = calls.session(active.call) as? CallSession else {
            throw MediaError(.pipelineFailed, "this door's media cannot share a call")
        }
        try joiner.join(host)
    }

    /// `join`: answers the phone onto the visit.
    func joinVisit(_ call: CallID) {
        answer(call)
        let name = visitName(call.peer)
        guard calls.session(call) != nil else {
            // The join failed (its end was a `left` already): say so, or the page waits for an answer.
            return refuse(call, .busy)
        }
        let phones = visitPhones.count
        Log.info("intercom", "\(name) joined the visit; \(phones) phone(s) on")
        control?.publish(.visitJoined(peer: call.peer, name: name, phones: phones))
    }

    /// `left`: a phone's call ended while others stay on.
    func leftVisit(_ call: CallID) {
        let name = visitName(call.peer)
        let phones = visitPhones.count
        Log.info("intercom", "\(name) left the visit; \(phones) phone(s) on")
        control?.publish(.visitLeft(peer: call.peer, name: name, phones: phones))
    }

    /// The name a phone was paired under (this ring's proven browsers), else the screen's word for a caller.
    func visitName(_ peer: String) -> String { paired?.household.name(of: peer) ?? CallerName.fallback }

    /// The phones on the running household call, first one first; empty when none runs.
    var visitPhones: [CallID] {
        guard case .inCall(_, let active) = machine.phase, active.household else { return [] }
        return active.members
    }

    /// `visit` in `ctl state`: the phones on the household call, each with what the door hears of it (the RMS
    /// of its voice where it enters the speaker mixer, in 1/1000 of full scale); null when none runs.
    func addVisitState(to state: inout [String: JSONValue]) {
        let phones = visitPhones
        guard !phones.isEmpty else {
            state["visit"] = .null
            return
        }
        state["visit"] = ["maxPhones": .number(Double(machine.settings.maxPhones)), "phones": .array(phones.map { call in
            let counters = calls.session(call)?.counters
            func n(_ value: Int?) -> JSONValue { value.map { .number(Double($0)) } ?? .null }
            return ["peer": .string(call.peer), "connectionId": .string(call.connectionId),
                    "name": .string(visitName(call.peer)),
                    "voiceRMS": n(counters?.voiceRMSPermille.load(ordering: .relaxed)),
                    "voiceBuffers": n(counters?.voiceBuffersMixed.load(ordering: .relaxed)),
                    "audioBuffersDecoded": n(counters?.audioBuffersDecoded.load(ordering: .relaxed)),
                    "videoFramesDecoded": n(counters?.videoFramesDecoded.load(ordering: .relaxed))]
        })]
    }
}
