import Synchronization

/// What the receive path decoded, counted on streaming threads and read from anywhere.
public final class MediaCounters: Sendable {
    public let videoFramesDecoded = Atomic<Int>(0)
    public let audioBuffersDecoded = Atomic<Int>(0)
    public let videoWidth = Atomic<Int>(0)
    public let videoHeight = Atomic<Int>(0)
    /// Keyframes our encoder produced, and keyframe requests (PLI/FIR from the peer, or ours) that reached it.
    public let keyframesSent = Atomic<Int>(0)
    public let keyframeRequests = Atomic<Int>(0)
    /// Keyframes the door asked its own encoder for (`CallSession.requestKeyframe`: ICE connected, camera back
    /// on, `ctl keyframe`); a call should need one or two.
    public let keyframesForced = Atomic<Int>(0)
    /// The video bitrate the encoder is set to now (lowered on loss).
    public let videoBitrateKbps = Atomic<Int>(0)
    /// The caller's decoded voice at its speaker-mixer pad: its level (the RMS in 1/1000 of full scale, held as a
    /// decaying peak, `meterVoice`) and how many buffers reached the mixer; a household visit reads it per phone.
    public let voiceRMSPermille = Atomic<Int>(0)
    public let voiceBuffersMixed = Atomic<Int>(0)
    public init() {}

    public struct Snapshot: Sendable, Equatable {
        public var videoFramesDecoded: Int
        public var audioBuffersDecoded: Int
        public var videoWidth: Int
        public var videoHeight: Int
        public var keyframesSent: Int
        public var keyframeRequests: Int
        public var keyframesForced: Int
        public var videoBitrateKbps: Int
    }

    public var snapshot: Snapshot {
        Snapshot(videoFramesDecoded: videoFramesDecoded.load(ordering: .relaxed),
                 audioBuffersDecoded: audioBuffersDecoded.load(ordering: .relaxed),
                 videoWidth: videoWidth.load(ordering: .relaxed), videoHeight: videoHeight.load(ordering: .relaxed),
                 keyframesSent: keyframesSent.load(ordering: .relaxed),
                 keyframeRequests: keyframeRequests.load(ordering: .relaxed),
                 keyframesForced: keyframesForced.load(ordering: .relaxed),
                 videoBitrateKbps: videoBitrateKbps.load(ordering: .relaxed))
    }
}
