import Admission
import Control
import DoorCore
import MainLoop
import Notify

/// Paired browsers, the device's side (docs/pairing.md): the pairing connection at the home ID,
/// ringing every pairing when a room becomes reachable, `ring-over` when the call starts or the room closes,
/// Web Push to their subscriptions, and the `pair`, `pairings`, `unpair` control commands. The pairing link,
/// the token and credentials never reach a log line or an event.
extension Device {
    // MARK: - The pairing window

    func pairingOpened(_ link: PairingLink) {
        _ = paired?.gate.handle(.windowOpened)
        Log.info("pairing", "pairing window open: \(link)")
        control?.publish(.pairingOpen(link: link.redacted))
    }

    func pairingClosed() {
        _ = paired?.gate.handle(.windowClosed(at: monotonicMillis()))
        Log.info("pairing", "pairing window closed")
        control?.publish(.pairingClosed)
    }

    /// Takes data OFFERs to the home ID that ask to pair (label `pair`, metadata `{"intercom":"pair"}`, json)
    /// when `PairingGate` lets them in: while the window is open, and shortly after so the page hears
    /// "expired" or "used". Refuses everything else.
    func takePairingOffer(_ link: DataLink) -> Bool {
        guard let paired, link.label == "pair", link.metadata?["intercom"]?.stringValue == "pair",
              link.serialization == .json else { return false }
        for (key, connection) in paired.pairConnections where connection.link.isClosed {
            paired.pairConnections[key] = nil
            _ = paired.gate.handle(.closed(connectionId: key))
        }
        var taken = false
        for action in paired.gate.handle(.offer(peer: link.peer, connectionId: link.connectionId, at: monotonicMillis())) {
            switch action {
            case .close(let older):
                paired.pairConnections.removeValue(forKey: older)?.link.close()
            case .refuse(_, let peer, let refusal):
                Log.info("pairing", "refused a pairing connection from \(peer): \(refusal.rawValue)")
            case .accept:
                taken = true
            }
        }
        guard taken else { return false }
        let key = link.connectionId
        link.onOpen = { [weak self, weak link] in
            guard let self, let link, let paired = self.paired else { return }
            paired.pairConnections[key]?.timer = GLibTimer(milliseconds: PairedBrowsers.pairConnectionMillis) { [weak link] in
                link?.close()
            }
        }
        link.onMessage = { [weak self, weak link] value in
            guard let self, let link else { return }
            pairingMessage(value, on: link)
        }
        let identity = ObjectIdentifier(link)
        link.onClosed = { [weak self] _ in
            // A newer offer under the same connectionId may have replaced this link already.
            guard let paired = self?.paired, let held = paired.pairConnections[key],
                  ObjectIdentifier(held.link) == identity else { return }
            paired.pairConnections[key] = nil
            _ = paired.gate.handle(.closed(connectionId: key))
        }
        paired.pairConnections[key] = PairedBrowsers.PairConnection(link: link)
        return true
    }

    private func pairingMessage(_ value: JSONValue, on link: DataLink) {
        guard let paired else { return }
        switch value["t"]?.stringValue {
        case "pair":
            guard paired.pairConnections[link.connectionId]?.pairingID == nil else { return }
            pair(value, on: link)
        case "push":
            guard let id = paired.pairConnections[link.connectionId]?.pairingID,
                  var pairing = paired.store.pairing(id: id) else {
                return Log.info("pairing", "dropped a push subscription from \(link.peer): it did not pair on this connection")
            }
            let subscription = value["subscription"]
            let push = Pairing.Push(endpoint: subscription?["endpoint"]?.stringValue ?? "",
                                    p256dh: subscription?["keys"]?["p256dh"]?.stringValue ?? "",
                                    auth: subscription?["keys"]?["auth"]?.stringValue ?? "")
            guard push.isValid else {
                return Log.info("pairing", "pairing \(id): the push subscription is not usable (https endpoint, keys)")
            }
            pairing.push = push
            paired.update(pairing)
            Log.info("pairing", "pairing \(id): Web Push subscription kept (\(HTTPRequest.loggableOrigin(push.endpoint)))")
            control?.publish(.pairingPush(id: id))
            link.close()
        default:
            Log.debug("pairing", "dropped a message from \(link.peer) on a pairing connection")
        }
    }

    /// Checks a `pair` message against the open window and stores the pairing; refusals say why. The reply
    /// goes once the pairings file is written (off the loop), or as a `storage` refusal if it could not be.
    private func pair(_ value: JSONValue, on link: DataLink) {
        guard let paired else { return }
        guard let proof = value["proof"]?.stringValue, let peerId = value["peerId"]?.stringValue,
              let offerFP = link.offerSDP.flatMap(PairingProof.fingerprint(inSDP:)),
              let answerFP = link.answerSDP.flatMap(PairingProof.fingerprint(inSDP:)) else {
            return refusePairing("proof", "no proof, peerId or fingerprints", on: link)
        }
        func holds(_ token: PairingToken) -> Bool {
            PairingProof.holds(proof, .pair, key: token.bytes, offerFP: offerFP, answerFP: answerFP)
        }
        let now = monotonicMillis()
        guard case .pairing(let window) = machine.phase, window.isOpen(at: now) else {
            if let spent = machine.spentToken, holds(spent) { return refusePairing("used", "the token was used already", on: link) }
            return refusePairing("expired", "no pairing window is open", on: link)
        }
        guard holds(window.token) else {
            if let spent = machine.spentToken, holds(spent) { return refusePairing("used", "the token was used already", on: link) }
            return refusePairing("proof", "the MAC does not hold over this connection's fingerprints", on: link)
        }
        // The signaling server sets `src`: the page must pair the ID it is registered under (the one we ring).
        guard peerId == link.peer, Pairing.isValidPeerID(peerId) else {
            return refusePairing("proof", "peerId is not the connection's peer", on: link)
        }
        let pairing = Pairing.make(name: value["name"]?.stringValue ?? "", peerId: peerId, now: wallClockMillis())
        let proofOfPairing = PairingProof.mac(.paired, key: window.token.bytes, offerFP: offerFP, answerFP: answerFP,
                                              extra: pairing.credential)
        // Taken at once so a second `pair` on this connection is not; the reply waits for the file.
        paired.pairConnections[link.connectionId]?.pairingID = pairing.id
        paired.add(pairing) { [weak self, weak link] failure in
            guard let self, let link else { return }
            if let failure {
                Log.error("pairing", failure)
                self.paired?.pairConnections[link.connectionId]?.pairingID = nil
                return refusePairing("storage", "the pairing could not be saved", on: link)
            }
            pairingSaved(pairing, on: link, proof: proofOfPairing)
        }
    }

    /// The pairing is saved: the page hears so (with its credential), and the door shows who paired.
    private func pairingSaved(_ pairing: Pairing, on link: DataLink, proof: String) {
        let vapid: JSONValue = (try? notifier?.pushKey().publicKeyText).map(JSONValue.string) ?? .null
        let reply: JSONValue = [
            "t": "paired", "id": .string(pairing.id), "door": .string(options.doorName),
            "home": .string(home?.peerID ?? ""), "credential": .string(pairing.credential), "vapidPublicKey": vapid,
            "proof": .string(proof),
        ]
        guard link.send(reply) else {
            paired?.remove(id: pairing.id) { _ in }
            paired?.pairConnections[link.connectionId]?.pairingID = nil
            return Log.info("pairing", "the pairing reply to \(link.peer) could not be sent; not paired")
        }
        Log.info("pairing", "paired \(pairing.id) \"\(pairing.name)\" (\(pairing.peerId))")
        control?.publish(.paired(id: pairing.id, name: pairing.name))
        handle(.pairedBrowser(name: pairing.name))
    }

    /// Tells the page why it is not paired, and closes its connection a moment later.
    private func refusePairing(_ reason: String, _ detail: String, on link: DataLink) {
        Log.info("pairing", "pairing refused (\(reason)) to \(link.peer): \(detail)")
        link.send(["t": "pair-refused", "reason": .string(reason)])
        control?.publish(.pairRefused(reason: reason))
        paired?.pairConnections[link.connectionId]?.timer = GLibTimer(milliseconds: PairedBrowsers.ringOverLingerMillis) {
            link.close()
        }
    }

    // MARK: - Ringing

    /// The room is reachable: a `ring` data link to every pairing (the page proves itself with `hello`, then
    /// gets the join link). Earlier ring links are closed first.
    func ringPairedBrowsers(code: String, link: RoomLink, expiresAt: Int64) {
        guard let paired else { return }
        for old in paired.ringLinks.values { old.close() }
        paired.ringLinks.removeAll()
        paired.helloTimers.removeAll()
        paired.ring = PairedBrowsers.Ring(door: options.doorName, code: code, link: link.url, expiresAt: expiresAt)
        for pairing in paired.store.pairings { openRingLink(to: pairing, attempt: 1) }
        if !paired.store.pairings.isEmpty { Log.info("pairing", "ringing \(paired.store.pairings.count) paired browser(s)") }
    }

    /// One ring link to one pairing. `attempt` counts the links of this ring to it: one that opens and hears
    /// no `hello` is replaced by a fresh one (see `PairedBrowsers.ringLinkAttempts`).
    private func openRingLink(to pairing: Pairing, attempt: Int) {
        guard let paired else { return }
        let id = pairing.id
        guard let ringLink = openDataLink(to: pairing.peerId, label: "ring", serialization: .json,
                                          metadata: ["intercom": "ring"]) else {
            return Log.info("pairing", "cannot ring pairing \(id): the home ID is not in service")
        }
        paired.ringLinks[id] = ringLink
        ringLink.onOpen = { [weak self, weak ringLink] in
            guard let self, let ringLink, let paired = self.paired, paired.ringLinks[id] === ringLink else { return }
            paired.helloTimers[id] = GLibTimer(milliseconds: PairedBrowsers.helloTimeoutMillis) { [weak self, weak ringLink] in
                guard let self, let ringLink else { return }
                ringLinkSilent(id, ringLink, attempt: attempt)
            }
        }
        ringLink.onMessage = { [weak self, weak ringLink] value in
            guard let self, let ringLink else { return }
            ringMessage(value, pairingID: id, on: ringLink)
        }
        ringLink.onClosed = { [weak self, weak ringLink] reason in
            guard let self, let ringLink else { return }
            ringLinkClosed(id, ringLink, reason: reason)
        }
    }

    /// Web Push subscriptions of the pairings, for the notifier's ring.
    func pairedPushSubscriptions() -> [PushSubscription] {
        (paired?.store.pairings ?? []).compactMap { pairing in
            guard let push = pairing.push else { return nil }
            return try? PushSubscription(id: pairing.id, name: pairing.name, endpoint: push.endpoint,
                                         p256dh: push.p256dh, auth: push.auth, addedAt: pairing.createdAt)
        }
    }

    /// A push service said a pairing's subscription is gone: the pairing stays, without push.
    func pairedPushGone(_ subscription: PushSubscription) {
        guard let paired, var pairing = paired.store.pairing(id: subscription.id) else { return }
        pairing.push = nil
        Log.info("pairing", "pairing \(pairing.id): its Web Push subscription is gone; removed")
        paired.update(pairing)
    }

    /// The ring link opened but its page said no `hello` in time. About one link in 20–25 loses the page's
    /// first message on our side (the page opened and sent `hello` within ~100 ms; webrtcbin 1.22 never
    /// delivered it; with its debug log on it did not happen), so a fresh link is tried while the ring lasts; after
    /// `ringLinkAttempts` silent links whatever holds the stable ID is not proving itself, and the ring to it
    /// ends there.
    private func ringLinkSilent(_ pairingID: String, _ link: DataLink, attempt: Int) {
        guard let paired, paired.ringLinks[pairingID] === link else { return }
        paired.helloTimers[pairingID] = nil
        paired.ringLinks[pairingID] = nil
        link.close()
        let seconds = PairedBrowsers.helloTimeoutMillis / 1000
        if attempt < PairedBrowsers.ringLinkAttempts, let ring = paired.ring, !ring.answered,
           let pairing = paired.store.pairing(id: pairingID) {
            Log.info("pairing", "ring link of pairing \(pairingID) (\(link.peer)): no hello within \(seconds) s of "
                     + "opening; closed, trying a new link (\(attempt + 1) of \(PairedBrowsers.ringLinkAttempts))")
            return openRingLink(to: pairing, attempt: attempt + 1)
        }
        Log.info("pairing", "ring link of pairing \(pairingID) (\(link.peer)): no hello within \(seconds) s of "
                 + "opening; closed (\(attempt) link(s) tried)")
        control?.publish(.pairingRing(id: pairingID, result: "no-hello"))
    }

    private func ringMessage(_ value: JSONValue, pairingID: String, on link: DataLink) {
        guard let paired, value["t"]?.stringValue == "hello" else {
            return Log.debug("pairing", "dropped a message on the ring link of \(pairingID)")
        }
        if paired.ringLinks[pairingID] === link { paired.helloTimers[pairingID] = nil }
        guard let ring = paired.ring, !ring.answered, paired.ringLinks[pairingID] === link else { return link.close() }
        guard var pairing = paired.store.pairing(id: pairingID), value["id"]?.stringValue == pairingID,
              let key = pairing.credentialKey, let proof = value["proof"]?.stringValue,
              let offerFP = link.offerSDP.flatMap(PairingProof.fingerprint(inSDP:)),
              let answerFP = link.answerSDP.flatMap(PairingProof.fingerprint(inSDP:)),
              PairingProof.holds(proof, .hello, key: key, offerFP: offerFP, answerFP: answerFP) else {
            Log.warning("pairing", "ring refused: bad proof from \(link.peer) (pairing \(pairingID))")
            control?.publish(.pairingRing(id: pairingID, result: "refused"))
            paired.ringLinks[pairingID] = nil
            return link.close()
        }
        paired.household.proved(peer: link.peer, name: pairing.name)
        let now = wallClockMillis()
        pairing.lastSeenAt = now
        pairing.onlineAtLastRing = true
        paired.update(pairing)
        let message: JSONValue = [
            "t": "ring", "door": .string(ring.door), "code": .string(ring.code), "link": .string(ring.link),
            "expiresAt": .number(Double(ring.expiresAt)),
            "proof": .string(PairingProof.mac(.ringReply, key: key, offerFP: offerFP, answerFP: answerFP, extra: ring.link)),
        ]
        guard link.send(message) else {
            Log.warning("pairing", "the ring to pairing \(pairingID) could not be sent on its link; closed")
            return link.close()
        }
        Log.info("pairing", "rang pairing \(pairingID) \"\(pairing.name)\"")
        sendRingPicture(on: link)
        control?.publish(.pairingRing(id: pairingID, result: "rung"))
    }

    private func ringLinkClosed(_ pairingID: String, _ link: DataLink, reason: String?) {
        guard let paired, paired.ringLinks[pairingID] === link else { return }
        paired.ringLinks[pairingID] = nil
        paired.helloTimers[pairingID] = nil
        // Offline (EXPIRE) or never answered: the page was not open for this ring.
        guard reason == "offline" || reason == "timeout", var pairing = paired.store.pairing(id: pairingID) else { return }
        pairing.onlineAtLastRing = false
        paired.update(pairing)
        Log.info("pairing", "pairing \(pairingID) \"\(pairing.name)\" is not online (\(reason ?? ""))")
        control?.publish(.pairingRing(id: pairingID, result: "offline"))
    }

    /// The room's call was accepted: every other paired browser hears "answered-elsewhere".
    func pairedRoomAnswered(by call: CallID) {
        guard let paired, paired.ring != nil else { return }
        paired.ring?.answered = true
        endRing(reason: ringOverReason(answeredBy: call), except: call.peer)
    }

    /// The room closed: unanswered, every paired browser still ringing hears "missed".
    func pairedRoomClosed() {
        guard let paired, let ring = paired.ring else { return }
        if !ring.answered { endRing(reason: "missed", except: nil) }
        paired.ring = nil
        paired.household.forget()
    }

    private func endRing(reason: String, except peer: String?) {
        guard let paired else { return }
        var told = 0
        for link in paired.ringLinks.values {
            if link.peer != peer, link.send(["t": "ring-over", "reason": .string(reason)]) { told += 1 }
            paired.lingering.append(link)
        }
        paired.ringLinks.removeAll()
        paired.helloTimers.removeAll()
        if told > 0 {
            Log.info("pairing", "ring over (\(reason)) told to \(told) paired browser(s)")
            control?.publish(.pairingRingOver(reason: reason, count: told))
        }
        paired.lingerTimer = GLibTimer(milliseconds: PairedBrowsers.ringOverLingerMillis) { [weak paired] in
            paired?.lingering.forEach { $0.close() }
            paired?.lingering.removeAll()
        }
    }

    // MARK: - Control socket

    /// `pair`, `pairings` (`unpair` replies later: `unpairControl`).
    ///
    /// - `{"cmd":"pair"}` → `{"ok":true,"expiresAt":ms}` (the link is on the screen's QR only)
    /// - `{"cmd":"pairings"}` → `{"ok":true,"pairings":[{id,name,createdAt,lastSeenAt,onlineAtLastRing,push}]}`
    /// - `{"cmd":"unpair","id":<id or name>}` → `{"ok":true,"id"}`
    func pairingControl(_ command: ControlRequest.Command, _ request: JSONValue) -> JSONValue {
        guard let paired else {
            return ["ok": false, "error": "pairing needs a state directory (paths.state) to keep pairings in"]
        }
        switch command {
        case .pair:
            handle(.pairRequested)
            guard case .pairing(let window) = machine.phase else {
                return ["ok": false, "error": .string("the door is busy (\(machine.phase.name)); try again when it is idle")]
            }
            return ["ok": true, "expiresAt": .number(Double(DoorClock.system.wallTime(ofMonotonic: window.expiresAt)))]
        case .pairings:
            return ["ok": true, "pairings": .array(paired.store.pairings.map { p in
                ["id": .string(p.id), "name": .string(p.name), "createdAt": .number(Double(p.createdAt)),
                 "lastSeenAt": p.lastSeenAt.map { .number(Double($0)) } ?? .null,
                 "onlineAtLastRing": p.onlineAtLastRing.map(JSONValue.bool) ?? .null, "push": .bool(p.push != nil)]
            })]
        default:
            // `unpair` replies after its save: `unpairControl`.
            return ControlRequest.unknown(request)
        }
    }

    /// `{"cmd":"unpair","id":<id or name>}` → `{"ok":true,"id"}` once the pairings file is written; if it could
    /// not be, the pairing stays and the reply says the change could not be saved.
    func unpairControl(_ request: JSONValue, reply: @escaping @Sendable @GLibActor (JSONValue) -> Void) {
        guard let paired else {
            return reply(["ok": false, "error": "pairing needs a state directory (paths.state) to keep pairings in"])
        }
        guard let key = request["id"]?.stringValue else { return reply(["ok": false, "error": "unpair needs id (an id or a name)"]) }
        let pairing: Pairing
        do { pairing = try paired.store.find(key) } catch { return reply(["ok": false, "error": .string(error.description)]) }
        paired.remove(id: pairing.id) { [weak self] failure in
            if let failure {
                Log.error("pairing", failure)
                return reply(["ok": false, "error": .string("the pairing could not be saved as removed: \(failure)")])
            }
            self?.paired?.ringLinks.removeValue(forKey: pairing.id)?.close()
            Log.info("pairing", "unpaired \(pairing.id) \"\(pairing.name)\"")
            self?.control?.publish(.unpaired(id: pairing.id))
            reply(["ok": true, "id": .string(pairing.id)])
        }
    }

    func addPairingState(to state: inout [String: JSONValue]) {
        if case .pairing(let window) = machine.phase {
            state["pairing"] = ["expiresAt": .number(Double(DoorClock.system.wallTime(ofMonotonic: window.expiresAt))),
                                "link": .string(machine.settings.pairingLink(token: window.token).redacted)]
        } else {
            state["pairing"] = .null
        }
        state["pairings"] = paired.map { .number(Double($0.store.pairings.count)) } ?? .null
    }
}
