import Display
import DoorCore
import MainLoop
import Signaling

/// Pictures from the caller on the door's screen (docs/sharing.md#pictures-to-the-door): each chat connection
/// of a call gets a `PictureDrop`, which tells a page that announces files what the door takes.
extension Device {
    /// How long a picture from the caller stays on the screen.
    static let sentPictureMillis: Int64 = 5000

    /// Hooks `link` (a call's chat connection, BinaryPack only: the page sends file chunks as bytes) up to a
    /// `PictureDrop`; the link holds it.
    func attachPictureDrop(to link: DataLink) {
        guard link.serialization == .binary, let display else { return }
        let drop = PictureDrop(screen: (display.width, display.height),
                               send: { [weak link] message in link?.send(message) ?? false },
                               show: { [weak display] picture in
                                   display?.showSentPicture(picture, forMillis: Self.sentPictureMillis)
                               })
        link.onData = { value in drop.receive(value) }
    }
}
