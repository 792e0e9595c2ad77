/// Frames taken from each socket in the current loop turn (`WebSocketHost.maxFramesPerTurn`), and the sockets
/// paused (`lws_rx_flow_control`) for the rest of the turn because they reached it.
struct FramesThisTurn {
    private var counts: [OpaquePointer: Int] = [:]
    private(set) var paused: [OpaquePointer] = []

    /// No frame counted yet in this turn.
    var isEmpty: Bool { counts.isEmpty }

    /// Counts a frame from `wsi`; returns how many it has sent in this turn, this one included.
    mutating func count(_ wsi: OpaquePointer) -> Int {
        let count = counts[wsi, default: 0] + 1
        counts[wsi] = count
        return count
    }

    mutating func pause(_ wsi: OpaquePointer) { paused.append(wsi) }

    /// Starts a new turn; returns the sockets paused in the last one.
    mutating func end() -> [OpaquePointer] {
        counts = [:]
        defer { paused = [] }
        return paused
    }
}
