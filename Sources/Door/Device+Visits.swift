import Admission
import Control
import DoorCore
import FoundationEssentials
import MainLoop
import Signaling
import Visits

/// The visit log's hooks into the device (docs/visits.md): who answered, and `intercom ctl visits`.
extension Device {
    /// Who the answered call is from: a paired browser calls from its stable ID, the one the door rings (its
    /// ring link is already closed by then). A label for the log, not a proof: the call itself was let in
    /// by the room's link like any other.
    func visitAnswerer(for call: CallID) -> Visit.Answerer {
        guard let pairing = paired?.store.pairings.first(where: { $0.peerId == call.peer }) else { return .visitorLink }
        return .paired(name: pairing.name)
    }

    /// `{"cmd":"visits"}` lists the visits newest first; `{"cmd":"visits-delete","id"}` forgets one with its clip.
    func visitsControl(_ command: ControlRequest.Command, _ request: JSONValue) -> JSONValue {
        guard let visits else { return ["ok": false, "error": "visits are off (visits.enabled) or have no state directory"] }
        switch command {
        case .visitsDelete:
            guard let id = request["id"]?.stringValue else { return ["ok": false, "error": "visits-delete needs id"] }
            do {
                try visits.delete(id)
                return ["ok": true, "id": .string(id)]
            } catch {
                return ["ok": false, "error": .string(error.description), "code": .string(error.code.rawValue)]
            }
        default:
            return ["ok": true, "visits": .array(visits.listing()), "bytes": .number(Double(visits.log.storedBytes()))]
        }
    }
}

// MARK: - Paired browsers' visits links

/// A paired page opens a data connection to the home ID (label `visits`, metadata `{"intercom":"visits"}`,
/// json) and proves its pairing with `{"t":"hello","id","proof"}`: the pairing credential's MAC over this
/// connection's DTLS fingerprints (`PairingProof` `.hello` with `visits` as the extra text, so a ring's hello
/// never counts here). Then, one reply per request:
///
/// - `{"t":"visits"}` → `{"t":"visits","list":[…]}` (also sent right after the hello);
/// - `{"t":"clip","id","offset"}` → `{"t":"clip","id","offset","size","data":<base64>,"last"}`, one chunk of
///   the clip file (the page asks for the next offset when a chunk arrives, so nothing piles up);
/// - `{"t":"delete","id"}` → `{"t":"deleted","id"}` and the new list;
/// - anything refused → `{"t":"error","id","code","message"}`.
extension Device {
    func takeVisitsOffer(_ link: DataLink) -> Bool {
        guard let visits, paired != nil, link.label == "visits", link.metadata?["intercom"]?.stringValue == "visits",
              link.serialization == .json else { return false }
        for (key, held) in visits.links where held.link.isClosed { visits.links[key] = nil }
        guard visits.links.count < VisitKeeper.maxLinks else {
            Log.info("visits", "refused a visits link from \(link.peer): \(VisitKeeper.maxLinks) are open")
            return false
        }
        let key = link.connectionId
        let identity = ObjectIdentifier(link)
        link.onOpen = { [weak self, weak link] in
            guard let visits = self?.visits, visits.links[key]?.link === link else { return }
            visits.links[key]?.timer = GLibTimer(milliseconds: VisitKeeper.helloTimeoutMillis) { [weak self, weak link] in
                guard let visits = self?.visits, let link, visits.links[key]?.link === link,
                      visits.links[key]?.pairing == nil else { return }
                Log.info("visits", "visits link from \(link.peer): no hello in time; closed")
                link.close()
            }
        }
        link.onMessage = { [weak self, weak link] value in
            guard let self, let link else { return }
            visitsMessage(value, on: link)
        }
        link.onClosed = { [weak self] _ in
            guard let visits = self?.visits, let held = visits.links[key], ObjectIdentifier(held.link) == identity else { return }
            visits.links[key] = nil
        }
        visits.links[key] = (link, nil, nil)
        return true
    }

    private func visitsMessage(_ value: JSONValue, on link: DataLink) {
        guard let visits, let held = visits.links[link.connectionId], held.link === link else { return link.close() }
        let kind = value["t"]?.stringValue
        guard let pairingID = held.pairing else {
            guard kind == "hello", let paired, let id = value["id"]?.stringValue,
                  let pairing = paired.store.pairing(id: id), let key = pairing.credentialKey,
                  let proof = value["proof"]?.stringValue,
                  let offerFP = link.offerSDP.flatMap(PairingProof.fingerprint(inSDP:)),
                  let answerFP = link.answerSDP.flatMap(PairingProof.fingerprint(inSDP:)),
                  PairingProof.holds(proof, .hello, key: key, offerFP: offerFP, answerFP: answerFP, extra: "visits") else {
                Log.warning("visits", "visits link from \(link.peer) refused: no valid hello")
                control?.publish(.visitsLink(result: "refused", id: nil))
                visits.links[link.connectionId] = nil
                return link.close()
            }
            visits.links[link.connectionId] = (link, id, nil)
            Log.info("visits", "pairing \(id) \"\(pairing.name)\" opened the visit list")
            control?.publish(.visitsLink(result: "proved", id: id))
            _ = link.send(["t": "visits", "list": .array(visits.listing())])
            return
        }
        // The pairing may have been revoked since the hello.
        guard paired?.store.pairing(id: pairingID) != nil else { return link.close() }
        let id = value["id"]?.stringValue ?? ""
        func refuse(_ error: VisitsError) {
            _ = link.send(["t": "error", "id": .string(id), "code": .string(error.code.rawValue), "message": .string(error.message)])
        }
        switch kind {
        case "visits":
            _ = link.send(["t": "visits", "list": .array(visits.listing())])
        case "clip":
            do {
                let path = try visits.clipPath(of: id)
                let offset = value["offset"]?.numberValue.map { Int64($0) } ?? 0
                let (size, bytes) = try VisitKeeper.readChunk(path, offset: offset, count: VisitKeeper.clipChunkBytes)
                let sent = link.send(["t": "clip", "id": .string(id), "offset": .number(Double(offset)),
                                      "size": .number(Double(size)), "data": .string(Data(bytes).base64EncodedString()),
                                      "last": .bool(offset + Int64(bytes.count) >= size)])
                if !sent { Log.info("visits", "a chunk of clip \(id) could not be sent to pairing \(pairingID)") }
            } catch {
                refuse(error)
            }
        case "delete":
            do {
                try visits.delete(id)
                Log.info("visits", "pairing \(pairingID) deleted visit \(id)")
                _ = link.send(["t": "deleted", "id": .string(id)])
                _ = link.send(["t": "visits", "list": .array(visits.listing())])
            } catch {
                refuse(error)
            }
        default:
            Log.debug("visits", "dropped a message on the visits link of pairing \(pairingID)")
        }
    }
}
