import CGStreamer
import MainLoop
import Testing
@testable import Media

/// What a leaving phone takes with it (`HouseholdVisit.cut`) is found by walking pads from its webrtcbin: up
/// to the encoders' tees, down to the speaker mixer. These walks on the call pipeline's own shape decide that
/// nothing the other phones share is taken, and nothing of the phone is left behind.
@Suite struct HouseholdVisitWalkTests {
    init() { gst_init(nil, nil) }

    /// The shape `SendPipeline` builds with `visitTees`, up to webrtcbin (unnegotiated), plus what webrtcbin's
    /// `pad-added` adds for a caller's voice: a decoder and the speaker branch into the mixer.
    static let description = "videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! x264enc name=venc"
        + " ! tee name=enctee ! queue name=q ! h264parse name=parse ! rtph264pay pt=96 name=vpay"
        + " ! application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000 ! webrtc."
        + "  audiotestsrc is-live=true ! opusenc ! tee name=opustee ! rtpopuspay pt=111 name=apay"
        + " ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc."
        + "  webrtcbin name=webrtc"
        + "  audiotestsrc is-live=true ! identity name=voicedecoder ! audioconvert name=speakerbranch ! speakermix."
        + "  audiomixer name=speakermix ! fakesink"

    static func name(_ element: UnsafeMutablePointer<GstElement>) -> String {
        takeGString(gst_object_get_name(cast(element, to: GstObject.self))) ?? ""
    }

    @Test func theSendWalkStopsAtTheTeesAndTakesOnlyThePhonesBranch() throws {
        var error: UnsafeMutablePointer<GError>?
        let pipeline = try #require(gst_parse_launch(Self.description, &error))
        defer { gst_object_unref(UnsafeMutableRawPointer(pipeline)) }
        let webrtc = try #require(gst_bin_get_by_name(cast(pipeline, to: GstBin.self), "webrtc"))
        defer { gst_object_unref(UnsafeMutableRawPointer(webrtc)) }

        let video = try #require(HouseholdVisit.sendBranch(of: webrtc, video: true))
        let videoNames = video.elements.map(Self.name)
        #expect(videoNames.count == 4 && Array(videoNames[1...]) == ["vpay", "parse", "q"], "\(videoNames)")
        let videoTee = try #require(video.teePad.flatMap { gst_pad_get_parent_element($0) })
        #expect(Self.name(videoTee) == "enctee")

        let audio = try #require(HouseholdVisit.sendBranch(of: webrtc, video: false))
        let audioNames = audio.elements.map(Self.name)
        #expect(audioNames.count == 2 && audioNames[1] == "apay", "\(audioNames)")
        let audioTee = try #require(audio.teePad.flatMap { gst_pad_get_parent_element($0) })
        #expect(Self.name(audioTee) == "opustee")

        for element in video.elements + audio.elements + [videoTee, audioTee] { gst_object_unref(UnsafeMutableRawPointer(element)) }
        for pad in [video.teePad, audio.teePad].compactMap({ $0 }) { gst_object_unref(UnsafeMutableRawPointer(pad)) }
    }

    @Test func theReceiveWalkStopsAtTheMixer() throws {
        var error: UnsafeMutablePointer<GError>?
        let pipeline = try #require(gst_parse_launch(Self.description, &error))
        defer { gst_object_unref(UnsafeMutableRawPointer(pipeline)) }
        let bin = cast(pipeline, to: GstBin.self)
        // The decoded voice leaves `voicedecoder`: stand in for webrtcbin's source pad by walking from there.
        let decoder = try #require(gst_bin_get_by_name(bin, "voicedecoder"))
        defer { gst_object_unref(UnsafeMutableRawPointer(decoder)) }
        let received = HouseholdVisit.receiveElements(of: decoder)
        #expect(received.elements.map(Self.name) == ["speakerbranch"])
        #expect(received.mixerLinks.count == 1)
        if let link = received.mixerLinks.first, let peer = gst_pad_get_peer(link),
           let mixer = gst_pad_get_parent_element(peer) {
            #expect(Self.name(mixer) == "speakermix")
            gst_object_unref(UnsafeMutableRawPointer(mixer))
            gst_object_unref(UnsafeMutableRawPointer(peer))
        }
        received.elements.forEach { gst_object_unref(UnsafeMutableRawPointer($0)) }
        received.mixerLinks.forEach { gst_object_unref(UnsafeMutableRawPointer($0)) }
    }
}
