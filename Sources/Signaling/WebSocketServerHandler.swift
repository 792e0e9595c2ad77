import MainLoop

/// What the built-in server does with requests; the host only moves bytes.
@GLibActor
public protocol WebSocketServerHandler: AnyObject {
    func handleHTTP(path: String) -> HTTPResponse
    /// Returns whether a WebSocket upgrade on `path` is wanted at all (checked before the handshake completes);
    /// `origin` is the request's `Origin` header (a browser always sends it; nil from other clients), `host`
    /// its `Host` header.
    func acceptsWebSocket(path: String, origin: String?, host: String?) -> Bool
    /// A WebSocket upgrade completed; `query` holds the URL arguments. Set `socket.delegate` to keep it.
    func webSocketConnected(_ socket: WebSocketConnection, path: String, query: [String: String])
}
