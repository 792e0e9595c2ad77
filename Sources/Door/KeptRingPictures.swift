import DoorCore
import MainLoop

/// The last rings' pictures, in memory only (`RingPictureShelf`), and the paired pages' `ring-picture` data
/// links that ask for them by id (Device+RingPicture.swift): a page opened from a Web Push notification was not
/// open at the ring, so it gets the picture this way.
@GLibActor
final class KeptRingPictures {
    struct Held {
        var link: DataLink
        /// The pairing the link proved, once its hello held.
        var pairing: String?
        /// Closes the link when its hello is late, or when it has been open for `lifetimeMillis`.
        var timer: GLibTimer?
    }

    var shelf = RingPictureShelf()
    /// The `ring-picture` links by connectionId.
    var links: [String: Held] = [:]

    /// Links open at once: a household's phones opening the same notification.
    static let maxLinks = 4
    /// A link's hello must come this soon after it opened.
    static let helloTimeoutMillis: UInt32 = 10_000
    /// A link is closed this long after its hello: a picture takes a fraction of a second to send.
    static let lifetimeMillis: UInt32 = 30_000
}
