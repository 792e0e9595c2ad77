import DoorCore

/// Splitting and reassembly of BinaryPack messages over 16 300 bytes (docs/signaling.md#data-connections).
///
/// The sender slices the *packed* bytes into pieces of at most `chunkedMTU` bytes and sends each as its own
/// packed map `{"__peerData": id, "n": index, "data": bytes, "total": count}`, ids counting from 1 per
/// connection. The receiver collects pieces by id in any order and unpacks the concatenation once all arrived.
/// Pending pieces are bounded (messages, pieces per message, bytes), so a peer cannot park memory here.
public struct BinaryPackChunker: Sendable {
    /// What PeerJS 1.5 uses: larger messages get cut by Firefox → Chrome.
    public static let chunkedMTU = 16_300

    public struct Limits: Sendable {
        /// Largest reassembled message.
        public var maxMessageBytes = 1 << 20
        /// Messages being reassembled at once; the oldest is dropped beyond this.
        public var maxPendingMessages = 4
        public init() {}
        /// Pieces one message may claim (what `maxMessageBytes` needs in full pieces, plus one).
        var maxPieces: Int { maxMessageBytes / BinaryPackChunker.chunkedMTU + 1 }
    }

    private struct Pending: Sendable {
        var total: Int
        var pieces: [Int: [UInt8]] = [:]
        var bytes = 0
    }

    public let limits: Limits
    private var nextID: Int64 = 1
    private var pending: [Int64: Pending] = [:]
    private var order: [Int64] = []

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Messages currently waiting for pieces.
    public var pendingCount: Int { pending.count }

    /// The chunk maps for `packed` (one BinaryPack value), or `[packed]` when it is small enough to go whole.
    public mutating func split(_ packed: [UInt8]) -> [[UInt8]] {
        guard packed.count > Self.chunkedMTU else { return [packed] }
        let id = nextID
        nextID += 1
        let total = (packed.count + Self.chunkedMTU - 1) / Self.chunkedMTU
        return (0..<total).map { n in
            let start = n * Self.chunkedMTU
            let piece = Array(packed[start..<min(packed.count, start + Self.chunkedMTU)])
            return BinaryPack.encode(.object([("__peerData", .int(id)), ("n", .int(Int64(n))),
                                              ("data", .binary(piece)), ("total", .int(Int64(total)))]))
        }
    }

    /// Takes one decoded chunk map. Returns the whole packed message once its last piece arrived, nil while
    /// waiting. Throws on a piece that cannot belong to a valid message; that message is then dropped.
    public mutating func add(_ chunk: DataValue) throws(SignalingError) -> [UInt8]? {
        guard let id = chunk["__peerData"]?.integerValue, let n = chunk["n"]?.integerValue,
              let total = chunk["total"]?.integerValue, case .binary(let data)? = chunk["data"]
        else { throw SignalingError(.malformedData, "chunk without __peerData/n/total/data") }
        guard total >= 1, total <= limits.maxPieces, n >= 0, n < total else {
            pending[id] = nil
            order.removeAll { $0 == id }
            throw SignalingError(.tooLarge, "chunk \(n) of \(total) (at most \(limits.maxPieces) pieces)")
        }
        if pending[id] == nil { order.append(id) }
        var message = pending[id] ?? Pending(total: Int(total))
        guard message.total == Int(total) else {
            drop(id)
            throw SignalingError(.malformedData, "chunk \(id): total changed from \(message.total) to \(total)")
        }
        if message.pieces[Int(n)] == nil {
            message.pieces[Int(n)] = data
            message.bytes += data.count
        }
        guard message.bytes <= limits.maxMessageBytes else {
            drop(id)
            throw SignalingError(.tooLarge, "chunked message \(id) over \(limits.maxMessageBytes) bytes")
        }
        guard message.pieces.count == message.total else {
            pending[id] = message
            while order.count > limits.maxPendingMessages, let oldest = order.first {
                drop(oldest)
                Log.debug("data", "dropped the unfinished chunked message \(oldest): too many pending")
            }
            return nil
        }
        drop(id)
        var whole: [UInt8] = []
        whole.reserveCapacity(message.bytes)
        for index in 0..<message.total { whole.append(contentsOf: message.pieces[index] ?? []) }
        return whole
    }

    private mutating func drop(_ id: Int64) {
        pending[id] = nil
        order.removeAll { $0 == id }
    }
}
