import CGStreamer
import MainLoop
import Synchronization
import Testing
import TestSupport
@testable import Media

/// One visit, three phones (docs/household.md): the door's camera and microphone are encoded once and every
/// phone decodes the video and the door's audio; every phone's voice reaches the door's mixer with energy on its
/// own pad; one phone muted or gone leaves the others as they were.
///
/// Each phone's end is a real RTP depayloader and decoder (avdec_h264, opusdec) and its voice a real Opus RTP
/// stream, cut exactly where a webrtcbin would sit; no webrtcbin in between (why: docs/household.md).
@Suite(.serialized) struct VisitFanoutTests {
    init() {
        gst_init(nil, nil)
        GLibLoop.shared.start()
    }

    /// Buffers seen by one probe.
    final class Count: Sendable {
        let value = Atomic<Int>(0)
        var now: Int { value.load(ordering: .relaxed) }
    }

    /// One stand-in phone: what it decoded of the door, and a handle on its microphone's volume.
    @GLibActor final class TestPhone {
        let frames = Count()
        let doorAudio = Count()
        let video: UnsafeMutablePointer<GstElement>
        let audio: UnsafeMutablePointer<GstElement>
        let voice: UnsafeMutablePointer<GstElement>

        init(pitch: Int) throws {
            video = try #require(Self.bin("rtph264depay ! avdec_h264 output-corrupt=false ! fakesink name=out sync=false async=false"))
            audio = try #require(Self.bin("rtpopusdepay ! opusdec ! fakesink name=out sync=false async=false"))
            voice = try #require(Self.bin("audiotestsrc is-live=true wave=sine freq=\(pitch) volume=0.5 samplesperbuffer=960"
                + " ! volume name=mic ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1"
                + " ! opusenc bitrate=32000 frame-size=20 ! rtpopuspay pt=109"))
            Self.count(video, into: frames)
            Self.count(audio, into: doorAudio)
        }

        var end: PhoneEnd {
            PhoneEnd(elements: [video, audio, voice], videoSink: gst_element_get_static_pad(video, "sink")!,
                     audioSink: gst_element_get_static_pad(audio, "sink")!, voice: gst_element_get_static_pad(voice, "src")!)
        }

        func mute(_ muted: Bool) {
            let mic = gst_bin_get_by_name(cast(voice, to: GstBin.self), "mic")!
            gst_util_set_object_arg(cast(mic, to: GObject.self), "mute", muted ? "true" : "false")
            gst_object_unref(UnsafeMutableRawPointer(mic))
        }

        static func bin(_ description: String) -> UnsafeMutablePointer<GstElement>? {
            var error: UnsafeMutablePointer<GError>?
            let made = gst_parse_bin_from_description(description, 1, &error)
            if error != nil { g_clear_error(&error); return nil }
            // Kept alive after the fan-out removes it, so the test can still read its counters.
            return made.map { gst_object_ref_sink(UnsafeMutableRawPointer($0)); return $0 }
        }

        static func count(_ bin: UnsafeMutablePointer<GstElement>, into count: Count) {
            let sink = gst_bin_get_by_name(cast(bin, to: GstBin.self), "out")!
            let pad = gst_element_get_static_pad(sink, "sink")!
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, countProbe, Unmanaged.passRetained(count).toOpaque(),
                              releaseCount)
            gst_object_unref(UnsafeMutableRawPointer(pad))
            gst_object_unref(UnsafeMutableRawPointer(sink))
        }

        isolated deinit {
            for element in [video, audio, voice] { gst_object_unref(UnsafeMutableRawPointer(element)) }
        }
    }

    @GLibActor static func smallVisit() -> VisitFanout {
        var settings = VisitFanout.Settings()
        settings.width = 320
        settings.height = 240
        settings.bitrateKbps = 500
        settings.keyframeInterval = 30
        return VisitFanout(settings: settings)
    }

    @Test @GLibActor func threePhonesEachDecodeTheDoorAndAreHeardAtItsMixer() async throws {
        let visit = Self.smallVisit()
        try visit.start()
        defer { visit.stop() }
        // Different payload types per phone, as different browsers offer them.
        let phones = try [(96, 111, 300), (102, 109, 500), (125, 111, 700)].enumerated().map { index, types in
            let phone = try TestPhone(pitch: types.2)
            try visit.addPhone("phone\(index)", payloads: PhonePayloads(video: types.0, audio: types.1), end: phone.end)
            return phone
        }
        #expect(Set(visit.phoneIDs) == ["phone0", "phone1", "phone2"])
        for (index, phone) in phones.enumerated() {
            let meter = try #require(visit.meter("phone\(index)"))
            #expect(await eventually(within: .seconds(20)) { phone.frames.now >= 15 },
                    "phone\(index) decoded \(phone.frames.now) pictures")
            #expect(await eventually(within: .seconds(20)) { phone.doorAudio.now >= 15 },
                    "phone\(index) decoded \(phone.doorAudio.now) buffers of the door's audio")
            #expect(await eventually(within: .seconds(20)) {
                meter.voiceBuffers.load(ordering: .relaxed) >= 15 && meter.voiceRMSPermille.load(ordering: .relaxed) > 100
            }, "phone\(index)'s voice at the mixer: \(meter.voiceRMSPermille.load(ordering: .relaxed))‰ RMS")
        }
        #expect(visit.firstError() == nil)

        // Muting one phone silences its own mixer pad only.
        phones[1].mute(true)
        let meters = try (0..<3).map { try #require(visit.meter("phone\($0)")) }
        #expect(await eventually(within: .seconds(10)) { meters[1].voiceRMSPermille.load(ordering: .relaxed) < 5 },
                "the muted phone still measures \(meters[1].voiceRMSPermille.load(ordering: .relaxed))‰")
        let before = meters[0].voiceBuffers.load(ordering: .relaxed)
        #expect(await eventually { meters[0].voiceBuffers.load(ordering: .relaxed) >= before + 10 })
        #expect(meters[0].voiceRMSPermille.load(ordering: .relaxed) > 100)
        #expect(meters[2].voiceRMSPermille.load(ordering: .relaxed) > 100)
        phones[1].mute(false)
    }

    @Test @GLibActor func aPhoneLeavingLeavesTheOthersFlowing() async throws {
        let visit = Self.smallVisit()
        try visit.start()
        defer { visit.stop() }
        let phones = try (0..<3).map { index in
            let phone = try TestPhone(pitch: 300 + 200 * index)
            try visit.addPhone("phone\(index)", payloads: PhonePayloads(video: 96, audio: 111), end: phone.end)
            return phone
        }
        for phone in phones {
            #expect(await eventually(within: .seconds(20)) { phone.frames.now >= 10 })
        }
        let mixer = try #require(gst_bin_get_by_name(cast(visit.running!, to: GstBin.self), "visitmix"))
        defer { gst_object_unref(UnsafeMutableRawPointer(mixer)) }
        #expect(mixer.pointee.numsinkpads == 4, "silence and three phones")

        #expect(visit.removePhone("phone1"))
        #expect(!visit.removePhone("phone1"), "removed twice")
        #expect(Set(visit.phoneIDs) == ["phone0", "phone2"])
        #expect(mixer.pointee.numsinkpads == 3)
        #expect(phones[1].video.pointee.object.parent == nil, "the leaver's elements are still in the pipeline")
        let gone = phones[1].frames.now
        let stayed = (phones[0].frames.now, phones[2].frames.now)
        #expect(await eventually(within: .seconds(20)) {
            phones[0].frames.now >= stayed.0 + 30 && phones[2].frames.now >= stayed.1 + 30
        }, "after the leave: \(phones[0].frames.now - stayed.0) and \(phones[2].frames.now - stayed.1) more pictures")
        #expect(phones[1].frames.now == gone, "the leaver still decodes")
        let meter = try #require(visit.meter("phone2"))
        let heard = meter.voiceBuffers.load(ordering: .relaxed)
        #expect(await eventually { meter.voiceBuffers.load(ordering: .relaxed) >= heard + 10 })

        // A fourth phone joins the running visit after the leave and decodes from its first keyframe.
        let late = try TestPhone(pitch: 900)
        try visit.addPhone("late", payloads: PhonePayloads(video: 97, audio: 111), end: late.end)
        #expect(await eventually(within: .seconds(20)) { late.frames.now >= 10 }, "the late joiner decoded \(late.frames.now)")
        #expect(visit.firstError() == nil)
    }

    @Test @GLibActor func keyframeRequestsFromManyPhonesReachTheEncoderRateLimited() async throws {
        var settings = VisitFanout.Settings()
        settings.width = 320
        settings.height = 240
        settings.keyframeGapMicros = 300_000
        let visit = VisitFanout(settings: settings)
        try visit.start()
        defer { visit.stop() }
        for _ in 0..<20 { visit.requestKeyframe(for: "any") }
        #expect(visit.keyframesRequested == 1)
        #expect(await eventually { visit.keyframesRequested == 2 }, "the held-back request was never served")
    }

    /// With no periodic keyframes at all, a phone joining a running visit decodes only because its join asked
    /// the one encoder for a keyframe.
    @Test @GLibActor func aJoinerGetsAKeyframeWithoutWaitingForThePeriodicOne() async throws {
        var settings = VisitFanout.Settings()
        settings.width = 320
        settings.height = 240
        settings.keyframeInterval = 100_000
        settings.keyframeGapMicros = 200_000
        let visit = VisitFanout(settings: settings)
        try visit.start()
        defer { visit.stop() }
        let first = try TestPhone(pitch: 400)
        try visit.addPhone("first", payloads: PhonePayloads(video: 96, audio: 111), end: first.end)
        #expect(await eventually(within: .seconds(20)) { first.frames.now >= 10 })
        let second = try TestPhone(pitch: 600)
        try visit.addPhone("second", payloads: PhonePayloads(video: 98, audio: 111), end: second.end)
        #expect(await eventually(within: .seconds(20)) { second.frames.now >= 10 },
                "the second phone decoded \(second.frames.now) pictures")
        #expect(visit.keyframesRequested == 2)
    }

    /// The door's phone end is a webrtcbin: its request sink pads take the payloaded branches while the visit
    /// plays (before negotiation it holds them back; the branch's leaky queue keeps the tee from waiting), and
    /// the phone leaves while held back without the other phone missing a picture. No negotiation here: that
    /// is CallSession's, tested in SessionTeardownTests.
    @Test @GLibActor func aWebRTCBinIsAPhonesEndAndLeavesCleanly() async throws {
        let visit = Self.smallVisit()
        try visit.start()
        defer { visit.stop() }
        let other = try TestPhone(pitch: 400)
        try visit.addPhone("other", payloads: PhonePayloads(video: 96, audio: 111), end: other.end)
        let webrtc = try #require(gst_element_factory_make("webrtcbin", "phonewebrtc"))
        let videoSink = try #require(gst_element_request_pad_simple(webrtc, "sink_%u"))
        let audioSink = try #require(gst_element_request_pad_simple(webrtc, "sink_%u"))
        try visit.addPhone("webrtc", payloads: PhonePayloads(video: 102, audio: 111),
                           end: PhoneEnd(elements: [webrtc], videoSink: videoSink, audioSink: audioSink))
        let meter = try #require(visit.meter("webrtc"))
        // Unnegotiated, webrtcbin holds the first packet at its pad; the other phone must not notice.
        #expect(await eventually(within: .seconds(20)) { meter.videoPackets.load(ordering: .relaxed) >= 1 },
                "no RTP reached the webrtcbin's pad")
        let attached = other.frames.now
        #expect(await eventually(within: .seconds(20)) { other.frames.now >= attached + 30 },
                "the other phone stalled behind an unnegotiated webrtcbin")
        let before = other.frames.now
        #expect(visit.removePhone("webrtc"))
        #expect(await eventually(within: .seconds(20)) { other.frames.now >= before + 30 })
        #expect(visit.phoneIDs == ["other"])
        #expect(visit.firstError() == nil)
    }

    @Test @GLibActor func aPhoneTwiceOrBeforeStartIsRefused() async throws {
        let visit = Self.smallVisit()
        let phone = try TestPhone(pitch: 400)
        #expect(throws: MediaError.self) { try visit.addPhone("a", payloads: PhonePayloads(video: 96, audio: 111), end: phone.end) }
        try visit.start()
        defer { visit.stop() }
        try visit.addPhone("a", payloads: PhonePayloads(video: 96, audio: 111), end: phone.end)
        let again = try TestPhone(pitch: 500)
        #expect(throws: MediaError.self) { try visit.addPhone("a", payloads: PhonePayloads(video: 96, audio: 111), end: again.end) }
        #expect(visit.phoneIDs == ["a"])
    }
}

// Not closure literals inside the actor-isolated `TestPhone`: those would inherit its isolation, and GStreamer
// calls them on streaming threads.
private let countProbe: GstPadProbeCallback = { _, _, data in
    if let data { Unmanaged<VisitFanoutTests.Count>.fromOpaque(data).takeUnretainedValue().value.add(1, ordering: .relaxed) }
    return GST_PAD_PROBE_OK
}

private let releaseCount: GDestroyNotify = { data in
    if let data { Unmanaged<VisitFanoutTests.Count>.fromOpaque(data).release() }
}
