import DoorCore

/// How many connections each remote address holds open on the built-in server, for
/// `WebSocketHost.maxConnectionsPerAddress`: counted as lws instantiates a connection, let go when it is destroyed.
struct ConnectionsPerAddress {
    /// At most this many at once from one address; nil: no limit (and nothing is counted).
    var limit: Int?
    /// Addresses not held to the limit.
    var uncounted: Set<String> = ["127.0.0.1"]
    /// One warning line per 5 s about refused connections, with how many were not logged.
    var refusals = LogLimiter(intervalMillis: 5_000)
    private var open: [String: Int] = [:]
    private var addressOf: [OpaquePointer: String] = [:]

    /// Whether one more connection from `address` is over the limit.
    func isFull(_ address: String) -> Bool {
        guard let limit, !uncounted.contains(address) else { return false }
        return open[address, default: 0] >= limit
    }

    /// A connection `wsi` from `address` was accepted.
    mutating func opened(_ wsi: OpaquePointer, from address: String) {
        guard limit != nil, !uncounted.contains(address) else { return }
        open[address, default: 0] += 1
        addressOf[wsi] = address
    }

    /// The connection `wsi` is gone (whether or not it was counted).
    mutating func closed(_ wsi: OpaquePointer) {
        guard let address = addressOf.removeValue(forKey: wsi) else { return }
        let left = open[address, default: 1] - 1
        open[address] = left > 0 ? left : nil
    }
}
