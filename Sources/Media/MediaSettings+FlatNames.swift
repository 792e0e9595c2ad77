// Each setting under the flat name it had before the settings were grouped (MediaSettings.swift), so code
// that reads `settings.width` or sets `settings.clipTee` works unchanged; new code names the group
// (`settings.video.width`). docs/type-and-file-size.md lists who still uses these.
extension MediaSettings {
    public var camera: Camera {
        get { video.camera }
        set { video.camera = newValue }
    }
    public var cameraDevice: String? {
        get { video.cameraDevice }
        set { video.cameraDevice = newValue }
    }
    public var width: Int? {
        get { video.width }
        set { video.width = newValue }
    }
    public var height: Int? {
        get { video.height }
        set { video.height = newValue }
    }
    public var framerate: Int {
        get { video.framerate }
        set { video.framerate = newValue }
    }
    public var videoBitrateKbps: Int? {
        get { video.bitrateKbps }
        set { video.bitrateKbps = newValue }
    }
    public var encoder: EncoderChoice? {
        get { video.encoder }
        set { video.encoder = newValue }
    }
    public var keyframeIntervalSeconds: Int {
        get { video.keyframeIntervalSeconds }
        set { video.keyframeIntervalSeconds = newValue }
    }
    public var testPattern: TestPattern {
        get { video.testPattern }
        set { video.testPattern = newValue }
    }
    public var microphone: String {
        get { audio.microphone }
        set { audio.microphone = newValue }
    }
    public var speaker: String {
        get { audio.speaker }
        set { audio.speaker = newValue }
    }
    public var echoCancellation: Bool {
        get { audio.echoCancellation }
        set { audio.echoCancellation = newValue }
    }
    public var noiseSuppression: Bool {
        get { audio.noiseSuppression }
        set { audio.noiseSuppression = newValue }
    }
    public var lostAfterMillis: Int64 {
        get { receiving.lostAfterMillis }
        set { receiving.lostAfterMillis = newValue }
    }
    public var jitterLatencyMillis: Int {
        get { receiving.jitterLatencyMillis }
        set { receiving.jitterLatencyMillis = newValue }
    }
    public var remoteVideoWidth: Int {
        get { screen.remoteVideoWidth }
        set { screen.remoteVideoWidth = newValue }
    }
    public var remoteVideoFramesPerSecond: Int {
        get { screen.remoteVideoFramesPerSecond }
        set { screen.remoteVideoFramesPerSecond = newValue }
    }
    public var selfViewWidth: Int {
        get { screen.selfViewWidth }
        set { screen.selfViewWidth = newValue }
    }
    public var warmJoin: Bool {
        get { extras.warmJoin }
        set { extras.warmJoin = newValue }
    }
    public var clockStamp: Bool {
        get { extras.clockStamp }
        set { extras.clockStamp = newValue }
    }
    public var clipTee: Bool {
        get { extras.clipTee }
        set { extras.clipTee = newValue }
    }
    public var clipAudioTee: Bool {
        get { extras.clipAudioTee }
        set { extras.clipAudioTee = newValue }
    }
    public var visitTees: Bool {
        get { extras.visitTees }
        set { extras.visitTees = newValue }
    }
}
