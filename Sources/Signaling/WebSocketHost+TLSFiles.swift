extension WebSocketHost {
    /// The certificate and key files of a listener that speaks TLS (HTTPS and WSS on its port).
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var privateKey: String
        public init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }
}
