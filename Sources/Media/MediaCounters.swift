import Synchronization

/// What the receive path decoded, counted on streaming threads and read from anywhere.
public final class MediaCounters: Sendable {
    public let videoFramesDecoded = Atomic<Int>(0)
    public let audioBuffersDecoded = Atomic<Int>(0)
    public let videoWidth = Atomic<Int>(0)
    public let videoHeight = Atomic<Int>(0)
    public init() {}

    public struct Snapshot: Sendable, Equatable {
        public var videoFramesDecoded: Int
        public var audioBuffersDecoded: Int
        public var videoWidth: Int
        public var videoHeight: Int
    }

    public var snapshot: Snapshot {
        Snapshot(videoFramesDecoded: videoFramesDecoded.load(ordering: .relaxed),
                 audioBuffersDecoded: audioBuffersDecoded.load(ordering: .relaxed),
                 videoWidth: videoWidth.load(ordering: .relaxed), videoHeight: videoHeight.load(ordering: .relaxed))
    }
}
