/// What the configuration asks of the media path, by concern. `MediaPlan.resolve` turns it into what this
/// machine does.
public struct MediaSettings: Sendable, Equatable {
    public enum Camera: String, Sendable, CaseIterable {
        /// A Pi camera through libcamera, else a USB camera through V4L2, else the test picture.
        case auto, libcamera, v4l2, test
    }
    public enum TestPattern: String, Sendable, CaseIterable { case ball, snow }

    /// The camera and the video we send.
    public struct Video: Sendable, Equatable {
        public var camera = Camera.auto
        /// `/dev/videoN` for `.v4l2`; nil: the first capture device.
        public var cameraDevice: String?
        /// Picture size; nil: the encoder's default (1280x720 with the hardware encoder, 640x480 in software).
        public var width: Int?
        public var height: Int?
        public var framerate = 30
        /// Bitrate ceiling; nil: the encoder's default. Lowered on loss, raised back towards this.
        public var bitrateKbps: Int?
        /// nil: automatic (`EncoderChoice.choose`); else forced.
        public var encoder: EncoderChoice?
        /// Seconds between periodic keyframes (keyframes on request come at once, whatever this is).
        public var keyframeIntervalSeconds = 2
        /// What the test picture shows: `ball` (the default, cheap to encode), or `snow` (noise: every frame costs
        /// the whole bitrate, like a busy real scene; tests that squeeze the link need it).
        public var testPattern = TestPattern.ball
        public init() {}
    }

    /// The microphone and the speaker.
    public struct Audio: Sendable, Equatable {
        /// `auto` (ALSA or PulseAudio default input, else a test tone), `test`, `off`, or an ALSA device name.
        public var microphone = "auto"
        /// `auto` (ALSA or PulseAudio default output, else nothing audible), `off`, or an ALSA device name.
        public var speaker = "auto"
        public var echoCancellation = true
        public var noiseSuppression = true
        public init() {}
    }

    /// What a running call receives and how long it waits for the peer.
    public struct Receiving: Sendable, Equatable {
        /// Silence from a connected caller after which its call ends as lost (`PeerArrivals`,
        /// `media.lost_after_seconds`). A browser receiving our video sends a receiver report every 0.5–1.5 s;
        /// five seconds is three of the slowest gaps and a lost one besides.
        public var lostAfterMillis: Int64 = 5000
        /// Receive jitter buffer; tens of milliseconds, not webrtcbin's 200 ms default.
        public var jitterLatencyMillis = 60
        public init() {}
    }

    /// The door's screen during a call.
    public struct Screen: Sendable, Equatable {
        /// Width the caller's video is scaled to (height follows its aspect); 0 = not shown.
        public var remoteVideoWidth = 0
        /// At most this many of the caller's pictures a second go to the screen.
        public var remoteVideoFramesPerSecond = 15
        /// Width of the device camera's self-view during a call; 0 = no self-view.
        public var selfViewWidth = 0
        public init() {}
    }

    /// Parts of the pipeline that only some doors or runs want.
    public struct Extras: Sendable, Equatable {
        /// Start the next call's pipeline when a room opens (`WarmPipeline`); `media.warm_join: false` keeps the
        /// camera off until a call starts (`intercom run --cold-join` does the same for the benchmark).
        public var warmJoin = true
        /// Benchmarks only (`intercom run --clock-stamp`): stamp the wall-clock time into every sent picture and
        /// read the caller's stamps from the decoded video (`ClockStamp`, `CallSession.Event.clockStamp`).
        public var clockStamp = false
        /// A `tee name=enctee` after the H.264 encoder, for the visit clips (`ClipRecorder`, docs/visits.md).
        public var clipTee = false
        /// A `tee name=spktee` after the speaker mixer, so a call's recording carries the caller's audio.
        public var clipAudioTee = false
        /// Tees after the encoders for a household visit's other phones (`SendPipeline.visitTees`).
        public var visitTees = false
        public init() {}
    }

    public var video = Video()
    public var audio = Audio()
    public var receiving = Receiving()
    public var screen = Screen()
    public var extras = Extras()
    public init() {}
}
