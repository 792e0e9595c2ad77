/// Lowers the video bitrate when the peer reports loss and raises it again when the loss clears, between a
/// floor and the configured ceiling. Fed once a second with the loss the peer's receiver reports (RTCP
/// receiver reports, read through webrtcbin's `get-stats`).
public struct BitrateController: Sendable, Equatable {
    public let ceilingKbps: Int
    public let floorKbps: Int
    public private(set) var currentKbps: Int
    private var cleanIntervals = 0

    /// Above this fraction lost the bitrate drops to 70 %; below `clearLoss` for two intervals it rises 15 %.
    public static let heavyLoss = 0.08
    public static let clearLoss = 0.02

    public init(ceilingKbps: Int) {
        self.ceilingKbps = ceilingKbps
        floorKbps = min(ceilingKbps, max(150, ceilingKbps / 8))
        currentKbps = ceilingKbps
    }

    /// The new bitrate when it changes, else nil.
    public mutating func update(lossFraction: Double) -> Int? {
        let before = currentKbps
        if lossFraction > Self.heavyLoss {
            cleanIntervals = 0
            currentKbps = max(floorKbps, currentKbps * 7 / 10)
        } else if lossFraction < Self.clearLoss {
            cleanIntervals += 1
            if cleanIntervals >= 2 {
                cleanIntervals = 0
                currentKbps = min(ceilingKbps, currentKbps + max(20, currentKbps * 15 / 100))
            }
        } else {
            cleanIntervals = 0
        }
        return currentKbps == before ? nil : currentKbps
    }
}
