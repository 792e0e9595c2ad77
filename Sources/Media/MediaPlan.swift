import Glibc

/// What this machine sends and plays, decided once at start from the settings and the inventory, and logged.
/// A camera or microphone that was asked for but is missing leaves that part out (audio-only or video-only);
/// `auto` falls back to the test picture and tone so a desk machine still shows something.
public struct MediaPlan: Sendable, Equatable {
    public enum Video: Sendable, Equatable {
        case libcamera
        case v4l2(device: String)
        case test
        case none
    }
    public enum Microphone: Sendable, Equatable {
        case alsa(device: String?)
        case pulse
        case test
        case none
    }
    public enum Speaker: Sendable, Equatable {
        case alsa(device: String?)
        case pulse
        /// Nothing audible: decoded and dropped at the clock's pace (the echo canceller still sees it).
        case silent
    }
    public struct Note: Sendable, Equatable {
        public enum Level: Sendable { case info, warning, error }
        public var level: Level
        public var text: String
    }

    public var video: Video
    public var microphone: Microphone
    public var speaker: Speaker
    public var encoder: EncoderChoice?
    /// vp8enc exists, for a peer that offers no usable H.264.
    public var vp8Available: Bool
    public var width: Int
    public var height: Int
    public var framerate: Int
    public var bitrateKbps: Int
    public var keyframeInterval: Int
    /// webrtcdsp + webrtcechoprobe are in the pipeline (asked for, and installed).
    public var echoCancellation: Bool
    public var noiseSuppression: Bool
    public var notes: [Note]

    public var sendsVideo: Bool { video != .none && (encoder != nil || vp8Available) }
    public var sendsAudio: Bool { microphone != .none }

    public static func resolve(_ s: MediaSettings, _ inventory: MediaInventory) -> MediaPlan {
        var notes: [Note] = []
        func info(_ text: String) { notes.append(Note(level: .info, text: text)) }
        func warn(_ text: String) { notes.append(Note(level: .warning, text: text)) }
        func error(_ text: String) { notes.append(Note(level: .error, text: text)) }
        let has = inventory.elements.has

        // Camera.
        var video = Video.none
        switch s.camera {
        case .test:
            video = .test
        case .libcamera:
            if !has("libcamerasrc") {
                error("camera: libcamera asked for but libcamerasrc is missing (apt install gstreamer1.0-libcamera); audio only")
            } else if inventory.piCameraReceiver == nil {
                error("camera: libcamera asked for but no Pi camera is connected (no unicam/rp1-cfe node); audio only")
            } else {
                video = .libcamera
            }
        case .v4l2:
            let wanted = s.cameraDevice ?? inventory.v4l2Cameras.first?.device
            if !has("v4l2src") {
                error("camera: v4l2 asked for but v4l2src is missing (apt install gstreamer1.0-plugins-good); audio only")
            } else if let wanted, inventory.v4l2Cameras.contains(where: { $0.device == wanted }) || s.cameraDevice != nil
                        && fileExists(wanted) {
                video = .v4l2(device: wanted)
            } else {
                error("camera: \(s.cameraDevice ?? "a V4L2 camera") asked for but "
                      + (s.cameraDevice == nil ? "there is none" : "it does not exist") + "; audio only")
            }
        case .auto:
            if inventory.piCameraReceiver != nil, has("libcamerasrc") {
                video = .libcamera
            } else if let first = inventory.v4l2Cameras.first, has("v4l2src") {
                video = .v4l2(device: first.device)
            } else {
                video = .test
                warn("camera: none found (no Pi camera, no USB camera); sending the test picture")
            }
        }

        // Encoder and its defaults.
        let (encoder, encoderNote) = EncoderChoice.choose(forced: s.encoder, inventory.elements)
        let vp8 = has("vp8enc") && has("rtpvp8pay")
        if encoder == nil, video != .none {
            if vp8 { warn("video: \(encoderNote); only VP8 peers get video (apt install gstreamer1.0-plugins-ugly)") }
            else { error("video: \(encoderNote) and no vp8enc; audio only (apt install gstreamer1.0-plugins-ugly)"); video = .none }
        }
        let defaults = (encoder ?? .x264enc)
        let width = s.width ?? defaults.defaultSize.width
        let height = s.height ?? defaults.defaultSize.height
        let bitrate = s.videoBitrateKbps ?? defaults.defaultBitrateKbps

        // Microphone.
        var microphone = Microphone.none
        let alsaSrc = has("alsasrc"), pulseSrc = has("pulsesrc")
        switch s.microphone {
        case "off":
            info("microphone: off (media.microphone); video only")
        case "test":
            microphone = .test
        case "auto":
            if inventory.pulseServer != nil, pulseSrc { microphone = .pulse }
            else if inventory.alsaCapture, alsaSrc { microphone = .alsa(device: nil) }
            else {
                microphone = .test
                warn("microphone: none found (no ALSA capture device\(alsaSrc ? "" : " or no alsasrc"), no PulseAudio); "
                     + "sending a test tone (media.microphone: off sends no audio)")
            }
        case let device:
            if !alsaSrc { error("microphone: \(device) asked for but alsasrc is missing (apt install gstreamer1.0-alsa); video only") }
            else if !inventory.alsaCapture { error("microphone: \(device) asked for but ALSA has no capture device; video only") }
            else { microphone = .alsa(device: device) }
        }

        // Speaker.
        var speaker = Speaker.silent
        let alsaSink = has("alsasink"), pulseSink = has("pulsesink")
        switch s.speaker {
        case "off":
            info("speaker: off (media.speaker); the caller's audio is decoded and dropped")
        case "auto":
            if inventory.pulseServer != nil, pulseSink { speaker = .pulse }
            else if inventory.alsaPlayback, alsaSink { speaker = .alsa(device: nil) }
            else { warn("speaker: none found (no ALSA playback device, no PulseAudio); the caller's audio is decoded and dropped") }
        case let device:
            if alsaSink, inventory.alsaPlayback { speaker = .alsa(device: device) }
            else { error("speaker: \(device) asked for but \(alsaSink ? "ALSA has no playback device" : "alsasink is missing (apt install gstreamer1.0-alsa)"); the caller's audio is dropped") }
        }

        // Echo cancellation.
        let dsp = has("webrtcdsp") && has("webrtcechoprobe")
        let echo = s.echoCancellation && dsp && microphone != .none
        if s.echoCancellation, !dsp {
            warn("echo cancellation: webrtcdsp is missing (apt install gstreamer1.0-plugins-bad); off")
        }

        var plan = MediaPlan(video: video, microphone: microphone, speaker: speaker, encoder: encoder,
                             vp8Available: vp8, width: width, height: height, framerate: s.framerate,
                             bitrateKbps: bitrate, keyframeInterval: max(1, s.keyframeIntervalSeconds * s.framerate),
                             echoCancellation: echo, noiseSuppression: s.noiseSuppression && echo, notes: [])
        if video == .none, microphone == .none { error("neither camera nor microphone: the door only receives") }
        info("encoder: \(encoderNote); \(plan.summary)")
        plan.notes = notes
        return plan
    }

    /// One line for the log and `intercom probe`.
    public var summary: String {
        let v: String
        switch video {
        case .libcamera: v = "camera libcamera"
        case .v4l2(let device): v = "camera \(device)"
        case .test: v = "test picture"
        case .none: v = "no video"
        }
        let m: String
        switch microphone {
        case .alsa(let device): m = "microphone ALSA \(device ?? "default")"
        case .pulse: m = "microphone PulseAudio"
        case .test: m = "test tone"
        case .none: m = "no microphone"
        }
        let k: String
        switch speaker {
        case .alsa(let device): k = "speaker ALSA \(device ?? "default")"
        case .pulse: k = "speaker PulseAudio"
        case .silent: k = "no speaker"
        }
        return "\(v) \(width)x\(height)@\(framerate) \(bitrateKbps) kbit/s, \(m), \(k), echo cancellation "
            + (echoCancellation ? "on" : "off")
    }
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }
