import Admission
import DoorCore
import FoundationEssentials
import MainLoop
import Media
import Notify

/// The ring's still (docs/ring-picture.md): taken from the camera the press starts, it goes with the
/// notifications, in Web Push as an id, and to the paired browsers' ringing dialog: over their ring link when
/// their page is open at the ring, or over a `ring-picture` link when a page opened later asks for it by id.
extension Device {
    /// A picture for this ring when `notify.picture` is on and someone would receive it (a target, a Web Push
    /// subscription or a paired browser); nil: no picture is taken at all.
    func makeRingPicture() -> RingPicture? {
        guard options.configuration.notify.picture, let notifier else { return nil }
        let audience = !notifier.targets.isEmpty || !(notifier.pushSubscriptions?.subscriptions.isEmpty ?? true)
            || !(paired?.store.pairings.isEmpty ?? true)
        return audience ? RingPicture() : nil
    }

    /// Fills `picture` from the camera that `media.warmUp()` started (called right after it), and keeps it in
    /// memory for the paired pages that ask for it later (`KeptRingPictures`).
    func grabRingPicture(_ picture: RingPicture?) {
        guard let picture else { return }
        if let paired, !paired.store.pairings.isEmpty {
            picture.whenReady { [weak paired, id = picture.id] jpeg in
                guard let jpeg else { return }
                paired?.ringPictures.shelf.keep(id: id, jpeg: jpeg, now: monotonicMillis())
            }
        }
        media.grabStill { [weak picture] still in picture?.deliver(still?.jpeg) }
    }

    /// After the ring on a paired browser's ring link: the picture, as soon as it is there.
    func sendRingPicture(on link: DataLink) {
        guard let picture = notifier?.picture else { return }
        picture.whenReady { [weak link, id = picture.id] jpeg in
            guard let link, let jpeg, link.isOpen else { return }
            Self.sendPicture(jpeg, id: id, on: link)
        }
    }

    /// `jpeg` in pieces of `pictureChunkCharacters` base64 characters (`{"t":"picture","id","type","part","parts",
    /// "data"}`), so that no data channel message comes near a browser's size limit. False if a piece did not go.
    @discardableResult
    static func sendPicture(_ jpeg: [UInt8], id: String, on link: DataLink) -> Bool {
        let text = Array(Data(jpeg).base64EncodedString().utf8)
        let size = pictureChunkCharacters
        let parts = (text.count + size - 1) / size
        for part in 0..<parts {
            let piece = String(decoding: text[(part * size)..<min(text.count, (part + 1) * size)], as: UTF8.self)
            let message: JSONValue = ["t": "picture", "id": .string(id), "type": "image/jpeg",
                                      "part": .number(Double(part)), "parts": .number(Double(parts)),
                                      "data": .string(piece)]
            guard link.send(message) else {
                Log.info("pairing", "the ring picture could not be sent to \(link.peer)")
                return false
            }
        }
        Log.debug("pairing", "ring picture (\(jpeg.count) bytes, \(parts) part(s)) sent to \(link.peer)")
        return true
    }

    static var pictureChunkCharacters: Int { 16_000 }
}

// MARK: - Paired pages asking for a ring's picture

/// A paired page that learns a ring's picture id (from a Web Push notification) opens a data connection to the
/// home ID: label `ring-picture`, metadata `{"intercom":"ring-picture"}`, json. It proves its pairing with
/// `{"t":"hello","id","proof"}` — the pairing credential's MAC over this connection's DTLS fingerprints
/// (`PairingProof` `.hello` with `ring-picture` as the extra text, so neither a ring's nor a visits link's hello
/// counts here) — then asks:
///
/// - `{"t":"picture","id"}` → the picture's pieces, as on the ring link, or `{"t":"error","id","code"}`
///   (`badID`, `notFound`: too old, pushed out by later rings, or the ring had none).
///
/// A link that does not prove itself is closed and gets nothing; pictures live in memory only, never on disk
/// and never on plain HTTP.
extension Device {
    func takeRingPictureOffer(_ link: DataLink) -> Bool {
        guard let paired, link.label == "ring-picture", link.metadata?["intercom"]?.stringValue == "ring-picture",
              link.serialization == .json else { return false }
        let kept = paired.ringPictures
        for (key, held) in kept.links where held.link.isClosed { kept.links[key] = nil }
        guard kept.links.count < KeptRingPictures.maxLinks else {
            Log.info("pairing", "refused a ring-picture link from \(link.peer): \(KeptRingPictures.maxLinks) are open")
            return false
        }
        let key = link.connectionId
        let identity = ObjectIdentifier(link)
        link.onOpen = { [weak kept, weak link] in
            guard let kept, let link, kept.links[key]?.link === link else { return }
            kept.links[key]?.timer = GLibTimer(milliseconds: KeptRingPictures.helloTimeoutMillis) { [weak kept, weak link] in
                guard let kept, let link, kept.links[key]?.link === link, kept.links[key]?.pairing == nil else { return }
                Log.info("pairing", "ring-picture link from \(link.peer): no hello in time; closed")
                link.close()
            }
        }
        link.onMessage = { [weak self, weak link] value in
            guard let self, let link else { return }
            ringPictureMessage(value, on: link)
        }
        link.onClosed = { [weak kept] _ in
            guard let kept, let held = kept.links[key], ObjectIdentifier(held.link) == identity else { return }
            kept.links[key] = nil
        }
        kept.links[key] = KeptRingPictures.Held(link: link)
        return true
    }

    private func ringPictureMessage(_ value: JSONValue, on link: DataLink) {
        guard let paired, let held = paired.ringPictures.links[link.connectionId], held.link === link else {
            return link.close()
        }
        let kept = paired.ringPictures
        guard let pairingID = held.pairing else {
            guard value["t"]?.stringValue == "hello", let id = value["id"]?.stringValue,
                  let pairing = paired.store.pairing(id: id), let key = pairing.credentialKey,
                  let proof = value["proof"]?.stringValue,
                  let offerFP = link.offerSDP.flatMap(PairingProof.fingerprint(inSDP:)),
                  let answerFP = link.answerSDP.flatMap(PairingProof.fingerprint(inSDP:)),
                  PairingProof.holds(proof, .hello, key: key, offerFP: offerFP, answerFP: answerFP, extra: "ring-picture") else {
                Log.warning("pairing", "ring-picture link from \(link.peer) refused: no valid hello")
                control?.publish(.ringPicture(result: "refused", pairing: nil, picture: nil))
                kept.links[link.connectionId] = nil
                return link.close()
            }
            kept.links[link.connectionId]?.pairing = id
            kept.links[link.connectionId]?.timer = GLibTimer(milliseconds: KeptRingPictures.lifetimeMillis) { [weak link] in
                link?.close()
            }
            return
        }
        // The pairing may have been revoked since the hello.
        guard paired.store.pairing(id: pairingID) != nil else { return link.close() }
        guard value["t"]?.stringValue == "picture" else {
            return Log.debug("pairing", "dropped a message on the ring-picture link of pairing \(pairingID)")
        }
        let id = value["id"]?.stringValue ?? ""
        func refuse(_ code: String) {
            _ = link.send(["t": "error", "id": .string(RingPictureShelf.isValidID(id) ? id : ""), "code": .string(code)])
            control?.publish(.ringPicture(result: code, pairing: pairingID, picture: RingPictureShelf.isValidID(id) ? id : nil))
        }
        guard RingPictureShelf.isValidID(id) else { return refuse("badID") }
        func send(_ jpeg: [UInt8]) {
            guard Self.sendPicture(jpeg, id: id, on: link) else { return }
            Log.info("pairing", "ring picture \(id) (\(jpeg.count) bytes) sent to pairing \(pairingID) on request")
            control?.publish(.ringPicture(result: "sent", pairing: pairingID, picture: id))
        }
        if let jpeg = kept.shelf.picture(id: id, now: monotonicMillis()) { return send(jpeg) }
        // The ring's own picture may still be on its way from the camera.
        if let picture = notifier?.picture, picture.id == id, !picture.isFinished {
            return picture.whenReady { [weak link] jpeg in
                guard let link, link.isOpen else { return }
                if let jpeg { send(jpeg) } else { refuse("notFound") }
            }
        }
        refuse("notFound")
    }
}
