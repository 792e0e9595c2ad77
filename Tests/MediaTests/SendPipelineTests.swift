import CGStreamer
import Testing
@testable import Media

/// The encoder and source choice for each board class, through a fixed element list (the capability
/// interface), and the pipeline description each choice produces.
@Suite struct SendPipelineTests {
    static let common: Set<String> = ["webrtcbin", "videotestsrc", "audiotestsrc", "v4l2src", "alsasrc", "alsasink",
                                      "webrtcdsp", "webrtcechoprobe", "vp8enc", "rtpvp8pay"]
    static let pi4 = FixedElements(common.union(["v4l2h264enc", "x264enc", "openh264enc", "libcamerasrc"]))
    static let pi5 = FixedElements(common.union(["x264enc", "openh264enc", "libcamerasrc"]))
    static let onlyOpenH264 = FixedElements(common.union(["openh264enc"]))
    static let noH264 = FixedElements(common)

    static func inventory(_ elements: FixedElements, piCamera: Bool = false, usb: [String] = [],
                          capture: Bool = true, playback: Bool = true) -> MediaInventory {
        var inventory = MediaInventory(elements: elements)
        inventory.piCameraReceiver = piCamera ? .init(device: "/dev/video0", name: "unicam") : nil
        inventory.v4l2Cameras = usb.map { .init(device: $0, name: "UVC Camera") }
        inventory.alsaCapture = capture
        inventory.alsaPlayback = playback
        return inventory
    }

    static let offer = try! SDPOffer(parsing: SDPOfferTests.chromeOffer)

    @Test func pi4UsesTheHardwareEncoderWithItsControls() {
        let plan = MediaPlan.resolve(MediaSettings(), Self.inventory(Self.pi4, piCamera: true))
        #expect(plan.encoder == .v4l2h264enc)
        #expect(plan.video == .libcamera)
        #expect((plan.width, plan.height, plan.bitrateKbps) == (1280, 720, 2500))
        let send = SendPipeline(plan: plan)
        let codec = send.videoCodec(for: Self.offer)
        #expect(codec == .h264(payloadType: 106, encoder: .v4l2h264enc))
        let text = send.description(video: codec, audioPayloadType: 111)
        #expect(text.contains("libcamerasrc"))
        #expect(text.contains("v4l2h264enc name=venc extra-controls=\"controls,video_bitrate=2500000,video_bitrate_mode=1,"
                              + "h264_i_frame_period=60,repeat_sequence_header=1,h264_profile=1,h264_level=9\""))
        // 1280x720@30 needs level 3.1: the caps pin it, so the SPS says 42c01f.
        #expect(text.contains("video/x-h264,profile=constrained-baseline,level=(string)3.1"))
        #expect(H264Level.fitting(width: 1280, height: 720, framerate: 30).constrainedBaselineProfileLevelId == "42c01f")
        #expect(text.contains("rtph264pay pt=106 config-interval=-1"))
    }

    @Test func pi5AndDesktopsUseX264ThenOpenH264() {
        let pi5 = MediaPlan.resolve(MediaSettings(), Self.inventory(Self.pi5, usb: ["/dev/video2"]))
        #expect(pi5.encoder == .x264enc)
        #expect(pi5.video == .v4l2(device: "/dev/video2"))
        #expect((pi5.width, pi5.height, pi5.bitrateKbps) == (640, 480, 1200))
        let x264 = SendPipeline(plan: pi5).description(video: .h264(payloadType: 106, encoder: .x264enc), audioPayloadType: 111)
        #expect(x264.contains("v4l2src device=/dev/video2 io-mode=auto pixel-aspect-ratio=1/1 "))
        #expect(x264.contains("x264enc name=venc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=1200"))
        #expect(x264.contains("profile=constrained-baseline,level=(string)3 "))

        let open = MediaPlan.resolve(MediaSettings(), Self.inventory(Self.onlyOpenH264))
        #expect(open.encoder == .openh264enc)
        #expect(open.video == .test)
        #expect(open.notes.contains { $0.level == .warning && $0.text.contains("test picture") })
    }

    @Test func vp8OnlyWhenThePeerOffersNoUsableH264() {
        let vp8Offer = try! SDPOffer(parsing: ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0",
                                               "m=video 9 UDP/TLS/RTP/SAVPF 96 98", "a=rtpmap:96 VP8/90000",
                                               "a=rtpmap:98 VP9/90000"].joined(separator: "\r\n"))
        let send = SendPipeline(plan: MediaPlan.resolve(MediaSettings(), Self.inventory(Self.pi5)))
        #expect(send.videoCodec(for: Self.offer) == .h264(payloadType: 106, encoder: .x264enc)) // VP8 is first there
        #expect(send.videoCodec(for: vp8Offer) == .vp8(payloadType: 96))
        #expect(send.description(video: .vp8(payloadType: 96), audioPayloadType: nil).contains("vp8enc name=venc"))
        // No H.264 encoder at all: H.264 peers get no video, VP8 peers still do.
        let bare = SendPipeline(plan: MediaPlan.resolve(MediaSettings(), Self.inventory(Self.noH264)))
        #expect(bare.videoCodec(for: vp8Offer) == .vp8(payloadType: 96))
    }

    @Test func configForcesAnEncoderWhenItExists() {
        var settings = MediaSettings()
        settings.encoder = .openh264enc
        #expect(MediaPlan.resolve(settings, Self.inventory(Self.pi4)).encoder == .openh264enc)
        settings.encoder = .v4l2h264enc
        let plan = MediaPlan.resolve(settings, Self.inventory(Self.pi5))
        #expect(plan.encoder == .x264enc)
        #expect(plan.notes.contains { $0.text.contains("media.encoder v4l2h264enc is not available here; using x264enc") })
    }

    @Test func missingCameraOrMicrophoneDegradesInsteadOfFailing() {
        var settings = MediaSettings()
        settings.camera = .v4l2
        settings.cameraDevice = "/dev/video-not-here"
        let audioOnly = MediaPlan.resolve(settings, Self.inventory(Self.pi5))
        #expect(audioOnly.video == .none && audioOnly.sendsAudio)
        #expect(audioOnly.notes.contains { $0.level == .error && $0.text.contains("/dev/video-not-here") && $0.text.contains("audio only") })
        let send = SendPipeline(plan: audioOnly)
        #expect(send.videoCodec(for: Self.offer) == nil)
        #expect(!send.description(video: nil, audioPayloadType: 111).contains("venc"))

        settings = MediaSettings()
        settings.microphone = "hw:1,0"
        let videoOnly = MediaPlan.resolve(settings, Self.inventory(Self.pi5, capture: false))
        #expect(videoOnly.microphone == .none && videoOnly.sendsVideo)
        #expect(videoOnly.notes.contains { $0.level == .error && $0.text.contains("video only") })

        settings.camera = .libcamera
        let nothing = MediaPlan.resolve(settings, Self.inventory(Self.pi5, capture: false))
        #expect(!nothing.sendsVideo && !nothing.sendsAudio)
        #expect(nothing.notes.contains { $0.text.contains("no Pi camera is connected") })
    }

    @Test func speakerAndEchoCancellation() {
        let plan = MediaPlan.resolve(MediaSettings(), Self.inventory(Self.pi5))
        #expect(plan.speaker == .alsa(device: nil) && plan.echoCancellation)
        var send = SendPipeline(plan: plan)
        send.echoProbeName = "echoprobe7"
        let text = send.description(video: nil, audioPayloadType: 111)
        #expect(text.contains("webrtcdsp name=dsp probe=echoprobe7 echo-cancel=true"))
        #expect(text.contains("webrtcechoprobe name=echoprobe7 ! alsasink"))
        #expect(text.contains("volume name=micvolume"))

        var off = MediaSettings()
        off.echoCancellation = false
        off.speaker = "off"
        let quiet = SendPipeline(plan: MediaPlan.resolve(off, Self.inventory(Self.pi5)))
        let quietText = quiet.description(video: nil, audioPayloadType: 111)
        #expect(!quietText.contains("webrtcdsp") && !quietText.contains("webrtcechoprobe"))
        #expect(quietText.contains("fakesink name=speaker sync=true"))
        #expect(MediaPlan.resolve(MediaSettings(), Self.inventory(Self.pi5, playback: false)).speaker == .silent)
    }

    @Test func bitrateFallsOnLossAndRecovers() {
        var controller = BitrateController(ceilingKbps: 1200)
        #expect(controller.update(lossFraction: 0.0) == nil) // already at the ceiling
        #expect(controller.update(lossFraction: 0.20) == 840)
        #expect(controller.update(lossFraction: 0.20) == 588)
        #expect(controller.update(lossFraction: 0.05) == nil) // some loss: hold
        #expect(controller.update(lossFraction: 0.0) == nil)
        #expect(controller.update(lossFraction: 0.0) == 676)
        for _ in 0..<40 { _ = controller.update(lossFraction: 0) }
        #expect(controller.currentKbps == 1200)
        for _ in 0..<40 { _ = controller.update(lossFraction: 0.5) }
        #expect(controller.currentKbps == controller.floorKbps && controller.floorKbps == 150)
    }
}
