extension WebSocketHost {
    /// Dead-connection detection for client sockets (lws `retry_and_idle_policy`): a WebSocket ping after
    /// `pingSeconds` without traffic proving the link works, the socket dropped after `hangupSeconds`.
    public struct Keepalive: Sendable, Hashable {
        public var pingSeconds: UInt16 = 5
        public var hangupSeconds: UInt16 = 12
        public init(pingSeconds: UInt16 = 5, hangupSeconds: UInt16 = 12) {
            self.pingSeconds = pingSeconds; self.hangupSeconds = hangupSeconds
        }
    }
}
