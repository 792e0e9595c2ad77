import DoorCore
import FoundationEssentials
import MainLoop
import Media
import Notify

/// The ring's still (docs/notifications.md#the-ring-picture): taken from the camera the press starts, it goes
/// with the notifications, in Web Push as an id, and to the paired browsers' ringing dialog over their ring link.
extension Device {
    /// A picture for this ring when `notify.picture` is on and someone would receive it (a target, a Web Push
    /// subscription or a paired browser); nil: no picture is taken at all.
    func makeRingPicture() -> RingPicture? {
        guard options.configuration.notify.picture, let notifier else { return nil }
        let audience = !notifier.targets.isEmpty || !(notifier.pushSubscriptions?.subscriptions.isEmpty ?? true)
            || !(paired?.store.pairings.isEmpty ?? true)
        return audience ? RingPicture() : nil
    }

    /// Fills `picture` from the camera that `media.warmUp()` started (called right after it).
    func grabRingPicture(_ picture: RingPicture?) {
        guard let picture else { return }
        media.grabStill { [weak picture] still in picture?.deliver(still?.jpeg) }
    }

    /// After the ring on a paired browser's ring link: the picture, as soon as it is there, in pieces of
    /// `pictureChunkCharacters` base64 characters (`{"t":"picture","id","type","part","parts","data"}`), so
    /// that no data channel message comes near a browser's size limit.
    func sendRingPicture(on link: DataLink) {
        guard let picture = notifier?.picture else { return }
        picture.whenReady { [weak link, id = picture.id] jpeg in
            guard let link, let jpeg, link.isOpen else { return }
            let text = Array(Data(jpeg).base64EncodedString().utf8)
            let size = Self.pictureChunkCharacters
            let parts = (text.count + size - 1) / size
            for part in 0..<parts {
                let piece = String(decoding: text[(part * size)..<min(text.count, (part + 1) * size)], as: UTF8.self)
                let message: JSONValue = ["t": "picture", "id": .string(id), "type": "image/jpeg",
                                          "part": .number(Double(part)), "parts": .number(Double(parts)),
                                          "data": .string(piece)]
                guard link.send(message) else {
                    return Log.info("pairing", "the ring picture could not be sent to \(link.peer)")
                }
            }
            Log.debug("pairing", "ring picture (\(jpeg.count) bytes, \(parts) part(s)) sent to \(link.peer)")
        }
    }

    static var pictureChunkCharacters: Int { 16_000 }
}
