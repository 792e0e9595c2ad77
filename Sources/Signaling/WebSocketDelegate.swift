import MainLoop

/// A WebSocket (either side) as the rest of the program sees it.
@GLibActor
public protocol WebSocketDelegate: AnyObject {
    func webSocketDidOpen(_ socket: WebSocketConnection)
    func webSocket(_ socket: WebSocketConnection, didReceive text: String)
    /// Called once, whichever side closed or when a client could not connect (`error` then says why).
    func webSocketDidClose(_ socket: WebSocketConnection, error: String?)
}
