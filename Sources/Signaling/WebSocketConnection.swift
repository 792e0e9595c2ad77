import CWebSockets
import Glibc
import DoorCore
import MainLoop

/// One WebSocket, server or client side. Send and close are queued and done when lws says it is writable.
@GLibActor
public final class WebSocketConnection {
    public weak var delegate: (any WebSocketDelegate)?
    public let isClient: Bool
    public internal(set) var isOpen = false
    public let peerAddress: String

    var wsi: OpaquePointer?
    /// Frames not yet written are `outbox[outboxHead...]` (a head index: removing from the front is O(n)).
    var outbox: [[UInt8]] = []
    var outboxHead = 0
    var lastProgress: Int64 = 0
    var queuedBytes = 0
    var closeRequested = false
    var incoming: [UInt8] = []
    var closedReported = false
    var cStrings: [UnsafeMutablePointer<CChar>] = []

    init(isClient: Bool, peerAddress: String) {
        self.isClient = isClient; self.peerAddress = peerAddress
    }

    isolated deinit { cStrings.forEach { free($0) } }

    /// A peer with frames waiting that took none for this long has stopped reading (see `send`).
    public nonisolated static let stalledMillis: Int64 = 10_000
    /// Bytes queued for one peer beyond which it counts as dead however it reads (memory is finite).
    public nonisolated static let maxQueuedBytes = 16 << 20

    /// Queues one text frame. Returns false when the socket is dead: already closed (the frame is dropped
    /// with a debug line), or a peer that stopped reading — frames waiting and none taken for
    /// `stalledMillis`, or `maxQueuedBytes` waiting — which is then dropped at once.
    @discardableResult
    public func send(_ text: String) -> Bool {
        guard let wsi, !closeRequested else {
            Log.debug("signaling", "dropped a frame on a closed socket")
            return false
        }
        let frame = Array(text.utf8)
        let now = monotonicMillis()
        if queuedBytes == 0 { lastProgress = now }
        queuedBytes += frame.count
        let stalled = now - lastProgress > Self.stalledMillis
        guard queuedBytes <= Self.maxQueuedBytes, !stalled else {
            Log.warning("signaling", "dropping \(peerAddress): \(queuedBytes) bytes queued, "
                        + (stalled ? "none taken for \(now - lastProgress) ms" : "over the limit"))
            outbox = []
            outboxHead = 0
            closeRequested = true
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC)
            return false
        }
        outbox.append(frame)
        lws_callback_on_writable(wsi)
        return true
    }

    /// Closes after the queued frames are written.
    public func close() {
        guard let wsi, !closeRequested else { return }
        closeRequested = true
        lws_callback_on_writable(wsi)
    }

    var hasQueuedFrames: Bool { outboxHead < outbox.count }

    func reportClosed(_ error: String?) {
        isOpen = false
        wsi = nil
        guard !closedReported else { return }
        closedReported = true
        delegate?.webSocketDidClose(self, error: error)
    }
}
