/// The one encoder's bitrate when several phones share a visit: the lowest phone's estimate wins, within the
/// configured ceiling and a floor (docs/household.md). A phone without an estimate yet does not pull it down.
public struct VisitBitrate: Sendable, Equatable {
    public let ceilingKbps: Int
    public let floorKbps: Int

    public init(ceilingKbps: Int, floorKbps: Int = 150) {
        self.ceilingKbps = max(1, ceilingKbps)
        self.floorKbps = min(max(1, floorKbps), self.ceilingKbps)
    }

    /// The encoder's target for the phones' current estimates (kbit/s; nil where a phone has none yet).
    public func target(estimatesKbps: [Int?]) -> Int {
        guard let lowest = estimatesKbps.compactMap({ $0 }).min() else { return ceilingKbps }
        return min(ceilingKbps, max(floorKbps, lowest))
    }
}
