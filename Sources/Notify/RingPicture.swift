import DoorCore
import MainLoop

/// The still a ring's notifications carry: taken from the door's camera at the press, ready a little later
/// (the camera has to start). Whoever sends it waits with `whenReady`; `deliver` runs the waiters once, with
/// the JPEG or with nil when there is none (no camera, an error, too slow).
///
/// `id` names this ring's picture to the paired page: Web Push payloads are too small for a picture, so they
/// carry the id, and the page gets the picture itself over its paired connection.
@GLibActor
public final class RingPicture {
    public let id: String
    /// JPEG bytes once delivered; nil before, or when there was none.
    public private(set) var jpeg: [UInt8]?
    public private(set) var isFinished = false
    private var waiters: [@GLibActor ([UInt8]?) -> Void] = []

    public init(id: String = Base64URL.encode((0..<9).map { _ in UInt8.random(in: 0...255) })) {
        self.id = id
    }

    /// Runs `body` with the picture (or nil) once it is decided: at once when it already is.
    public func whenReady(_ body: @escaping @GLibActor ([UInt8]?) -> Void) {
        if isFinished { return body(jpeg) }
        waiters.append(body)
    }

    /// The picture, or nil for none. Only the first call counts.
    public func deliver(_ jpeg: [UInt8]?) {
        guard !isFinished else { return }
        isFinished = true
        self.jpeg = jpeg.flatMap { $0.isEmpty ? nil : $0 }
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter(self.jpeg) }
    }
}
