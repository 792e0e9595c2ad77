import CGStreamer
import Synchronization
import Testing
@testable import Media

/// The door's video asks Chromium for zero playout delay (`PlayoutDelay`): the answer must accept the offer's
/// extension ID and every packet must carry the extension, or the browser keeps its jitter buffer target.
@Suite(.serialized) struct PlayoutDelayTests {
    init() { gst_init(nil, nil) }

    static let uri = SDPOffer.playoutDelayURI

    @Test func offerExtensionIDsAreRead() throws {
        let offer = SDPOfferTests.chromeOffer.replacing(
            "a=mid:1\r\n", with: "a=mid:1\r\na=extmap:3 urn:ietf:params:rtp-hdrext:toffset\r\n"
                + "a=extmap:12/sendrecv \(Self.uri)\r\na=extmap:15 urn:example:out-of-range\r\n")
        let video = try #require(try SDPOffer(parsing: offer).section("video")?.section)
        #expect(video.extensions[Self.uri] == 12)
        #expect(video.extensions["urn:ietf:params:rtp-hdrext:toffset"] == 3)
        #expect(video.extensions["urn:example:out-of-range"] == nil) // one-byte IDs are 1…14
        #expect(try SDPOffer(parsing: SDPOfferTests.chromeOffer).section("video")?.section.extensions.isEmpty == true)
    }

    @Test func payloaderCapsAnswerTheExtension() {
        var settings = MediaSettings()
        settings.camera = .test
        var send = SendPipeline(plan: MediaPlan.resolve(settings, MediaInventory(elements: InstalledElements())))
        let codec = SendPipeline.VideoCodec.h264(payloadType: 106, encoder: .x264enc)
        #expect(!send.encoderAndPayloader(codec).contains("extmap"))
        send.playoutDelayExtensionID = 12
        let text = send.encoderAndPayloader(codec)
        #expect(text.contains(",extmap-12=(string)\"\(Self.uri)\""))
        #expect(text.contains("name=vpay"))
    }

    /// x264enc → rtph264pay (with the extension in its caps) → a sink that reads each packet's extensions.
    @Test func everyPacketCarriesZeroDelay() throws {
        try #require(elementExists("x264enc"), "x264enc is not installed")
        var settings = MediaSettings()
        settings.camera = .test
        settings.encoder = .x264enc
        var send = SendPipeline(plan: MediaPlan.resolve(settings, MediaInventory(elements: InstalledElements())))
        send.playoutDelayExtensionID = 12
        let description = "videotestsrc num-buffers=30 pattern=snow ! video/x-raw,width=640,height=480,framerate=30/1 ! "
            + send.encoderAndPayloader(.h264(payloadType: 106, encoder: .x264enc)) + " ! fakesink name=out"
        let run = try PipelineRun(description)
        PlayoutDelay.attach(to: UnsafeMutablePointer<GstBin>(OpaquePointer(run.pipeline)), extensionID: 12)
        let seen = ExtensionCount()
        let out = try #require(gst_bin_get_by_name(UnsafeMutablePointer<GstBin>(OpaquePointer(run.pipeline)), "out"))
        let pad = try #require(gst_element_get_static_pad(out, "sink"))
        let types = GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER.rawValue | GST_PAD_PROBE_TYPE_BUFFER_LIST.rawValue)
        gst_pad_add_probe(pad, types, countExtensions, Unmanaged.passRetained(seen).toOpaque(),
                          { data in if let data { Unmanaged<ExtensionCount>.fromOpaque(data).release() } })
        gst_object_unref(UnsafeMutableRawPointer(pad))
        gst_object_unref(UnsafeMutableRawPointer(out))
        let messages = run.untilEOS(seconds: 20)
        #expect(messages.errors.isEmpty, "\(messages.errors)")
        let caps = try #require(run.sinkCaps("out"))
        #expect(caps.contains("extmap-12=(string)\(Self.uri)"), "\(caps)")
        let (with, without) = (seen.zeroDelay.load(ordering: .relaxed), seen.other.load(ordering: .relaxed))
        print("playout delay: \(with) packets with min = max = 0, \(without) without")
        #expect(with > 30) // 30 noisy pictures at 1.2 Mbit/s: several packets each
        #expect(without == 0)
    }
}

final class ExtensionCount: Sendable {
    let zeroDelay = Atomic<Int>(0)
    let other = Atomic<Int>(0)
}

private let countExtensions: GstPadProbeCallback = { _, info, data in
    guard let info, let object = info.pointee.data, let data else { return GST_PAD_PROBE_OK }
    let count = Unmanaged<ExtensionCount>.fromOpaque(data).takeUnretainedValue()
    func check(_ buffer: UnsafeMutablePointer<GstBuffer>) {
        var rtp = GstRTPBuffer()
        guard gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp) != 0 else {
            count.other.add(1, ordering: .relaxed)
            return
        }
        defer { gst_rtp_buffer_unmap(&rtp) }
        var bytes: gpointer?
        var size: guint = 0
        let found = gst_rtp_buffer_get_extension_onebyte_header(&rtp, 12, 0, &bytes, &size) != 0
        let zero = found && size == 3 && bytes.map { b in (0..<3).allSatisfy { b.load(fromByteOffset: $0, as: UInt8.self) == 0 } } == true
        if zero { count.zeroDelay.add(1, ordering: .relaxed) } else { count.other.add(1, ordering: .relaxed) }
    }
    if info.pointee.type.rawValue & GST_PAD_PROBE_TYPE_BUFFER_LIST.rawValue != 0 {
        let list = OpaquePointer(object)
        for index in 0..<gst_buffer_list_length(list) {
            if let buffer = gst_buffer_list_get(list, index) { check(buffer) }
        }
    } else {
        check(object.assumingMemoryBound(to: GstBuffer.self))
    }
    return GST_PAD_PROBE_OK
}
