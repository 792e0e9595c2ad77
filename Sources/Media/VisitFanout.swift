import CGStreamer
import DoorCore
import Dispatch
import MainLoop
import Synchronization

/// The payload types one phone offered (each browser numbers its codecs itself).
public struct PhonePayloads: Sendable, Equatable {
    public var video: Int
    public var audio: Int
    public init(video: Int, audio: Int) { self.video = video; self.audio = audio }
}

/// Where one phone's branches end inside the visit's pipeline: in the door, a webrtcbin's two request sink pads
/// and the RTP audio pad it adds for the phone's voice; in a test, depayloaders and decoders.
///
/// `elements` are floating (or owned) elements the fan-out adds to its pipeline and removes when the phone
/// leaves; the pads are references the fan-out takes over and unreferences.
public struct PhoneEnd {
    public var elements: [UnsafeMutablePointer<GstElement>]
    public var videoSink: UnsafeMutablePointer<GstPad>
    public var audioSink: UnsafeMutablePointer<GstPad>
    /// The phone's voice as Opus RTP, when it is known at join time (a webrtcbin adds it later: `addVoice`).
    public var voice: UnsafeMutablePointer<GstPad>?
    public init(elements: [UnsafeMutablePointer<GstElement>], videoSink: UnsafeMutablePointer<GstPad>,
                audioSink: UnsafeMutablePointer<GstPad>, voice: UnsafeMutablePointer<GstPad>? = nil) {
        self.elements = elements; self.videoSink = videoSink; self.audioSink = audioSink; self.voice = voice
    }
}

/// What is measured per phone, written by streaming threads and read anywhere.
public final class PhoneMeter: Sendable {
    /// RTP packets of the door's video handed to this phone's end.
    public let videoPackets = Atomic<Int>(0)
    /// Buffers of this phone's decoded voice that reached the mixer.
    public let voiceBuffers = Atomic<Int>(0)
    /// RMS of the last voice buffer at the phone's mixer pad, in 1/1000 of full scale.
    public let voiceRMSPermille = Atomic<Int>(0)
    public init() {}
}

/// One visit's send pipeline for several phones: the camera encoded once (H.264) into a `tee`, the microphone
/// encoded once (Opus) into a `tee`, and one branch per phone off each, payloaded with that phone's payload
/// types; the phones' voices decoded into one `audiomixer` for the speaker. Phones join and leave while it plays;
/// the others' streams are never blocked (docs/household.md).
@GLibActor
public final class VisitFanout {
    public struct Settings: Sendable {
        public var videoSource = "videotestsrc is-live=true pattern=ball"
        public var microphoneSource = "audiotestsrc is-live=true wave=sine freq=440 samplesperbuffer=960"
        public var speakerSink = "fakesink name=speaker sync=true async=false"
        public var width = 1280
        public var height = 720
        public var framerate = 30
        public var bitrateKbps = 2000
        public var keyframeInterval = 60
        public var keyframeGapMicros: Int64 = 1_000_000
        public init() {}
    }

    private struct Phone {
        var videoTeePad: UnsafeMutablePointer<GstPad>?
        var audioTeePad: UnsafeMutablePointer<GstPad>?
        var branches: [UnsafeMutablePointer<GstElement>]
        var endElements: [UnsafeMutablePointer<GstElement>]
        var voiceDecoder: UnsafeMutablePointer<GstElement>?
        var mixerPad: UnsafeMutablePointer<GstPad>?
        let meter: PhoneMeter
    }

    public let settings: Settings
    private var pipeline: UnsafeMutablePointer<GstElement>?
    private var phones: [String: Phone] = [:]
    private var keyframes: KeyframeRequester?
    /// How many keyframes were asked of the encoder (after the gate).
    public var keyframesRequested: Int { keyframes?.requested ?? 0 }

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    isolated deinit { stop() }

    /// Who is on, in no particular order.
    public var phoneIDs: [String] { Array(phones.keys) }

    public func meter(_ id: String) -> PhoneMeter? { phones[id]?.meter }

    /// The pipeline, for a caller that adds its own elements (a webrtcbin per phone).
    public var running: UnsafeMutablePointer<GstElement>? { pipeline }

    var description: String {
        let s = settings
        return s.videoSource + " ! videoconvert ! videoscale"
            + " ! video/x-raw,format=I420,width=\(s.width),height=\(s.height),framerate=\(s.framerate)/1"
            + " ! x264enc name=venc tune=zerolatency speed-preset=ultrafast key-int-max=\(s.keyframeInterval)"
            + " bitrate=\(s.bitrateKbps)"
            + " ! video/x-h264,profile=constrained-baseline ! h264parse config-interval=-1"
            + " ! tee name=vtee allow-not-linked=true  "
            + s.microphoneSource + " ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=48000,channels=1"
            + " ! opusenc bitrate=32000 frame-size=20 audio-type=voice inband-fec=true"
            + " ! tee name=atee allow-not-linked=true  "
            + "audiotestsrc is-live=true wave=silence samplesperbuffer=480 ! audio/x-raw,format=S16LE,rate=48000,channels=1"
            + " ! audiomixer name=visitmix latency=20000000 ! audioconvert ! audioresample ! " + s.speakerSink
    }

    /// Builds and plays the encoders and the mixer, with no phone yet.
    public func start() throws(MediaError) {
        guard pipeline == nil else { return }
        var error: UnsafeMutablePointer<GError>?
        guard let built = gst_parse_launch(description, &error), error == nil else {
            throw MediaError(.pipelineFailed, "visit pipeline: \(takeError(error))")
        }
        pipeline = built
        keyframes = KeyframeRequester(pipeline: built, gapMicros: settings.keyframeGapMicros)
        if gst_element_set_state(built, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE {
            stop()
            throw MediaError(.pipelineFailed, "visit pipeline would not play")
        }
    }

    /// Stops everything, phones included.
    public func stop() {
        guard let pipeline else { return }
        gst_element_set_state(pipeline, GST_STATE_NULL)
        for phone in phones.values { unref(phone) }
        phones.removeAll()
        keyframes?.cancel()
        gst_object_unref(UnsafeMutableRawPointer(pipeline))
        self.pipeline = nil
    }

    /// The first error the pipeline posted, if any (the door routes these to the session's bus handler).
    public func firstError() -> String? {
        guard let pipeline, let bus = gst_element_get_bus(pipeline) else { return nil }
        defer { gst_object_unref(UnsafeMutableRawPointer(bus)) }
        guard let message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR) else { return nil }
        defer { gst_message_unref(message) }
        let (source, text) = busProblem(message)
        return "\(source): \(text)"
    }

    /// Adds a phone to the running visit: its payloaders, its end, its voice into the mixer; then links it to
    /// the encoders' tees and asks for a keyframe so it can start decoding.
    public func addPhone(_ id: String, payloads: PhonePayloads, end: PhoneEnd) throws(MediaError) {
        defer {
            gst_object_unref(UnsafeMutableRawPointer(end.videoSink))
            gst_object_unref(UnsafeMutableRawPointer(end.audioSink))
        }
        guard let pipeline else {
            end.voice.map { gst_object_unref(UnsafeMutableRawPointer($0)) }
            throw MediaError(.pipelineFailed, "visit not started")
        }
        guard phones[id] == nil else {
            end.voice.map { gst_object_unref(UnsafeMutableRawPointer($0)) }
            throw MediaError(.negotiationFailed, "phone \(id) is already on the visit")
        }
        let bin = cast(pipeline, to: GstBin.self)
        let meter = PhoneMeter()
        let video = try branch("queue max-size-buffers=0 max-size-bytes=0 max-size-time=200000000 leaky=downstream"
            + " ! rtph264pay pt=\(payloads.video) config-interval=-1 aggregate-mode=zero-latency"
            + " ! capsfilter caps=\"application/x-rtp,media=video,encoding-name=H264,payload=\(payloads.video),clock-rate=90000\"")
        let audio = try branch("queue max-size-buffers=0 max-size-bytes=0 max-size-time=200000000 leaky=downstream"
            + " ! rtpopuspay pt=\(payloads.audio)"
            + " ! capsfilter caps=\"application/x-rtp,media=audio,encoding-name=OPUS,payload=\(payloads.audio),clock-rate=48000\"")
        for element in [video, audio] + end.elements { gst_bin_add(bin, element) }
        if let pad = gst_element_get_static_pad(video, "src") {
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, countVideoPacket,
                              Unmanaged.passRetained(meter).toOpaque(), releaseMeter)
            gst_object_unref(UnsafeMutableRawPointer(pad))
        }
        var phone = Phone(branches: [video, audio], endElements: end.elements, meter: meter)
        guard link(video, "src", to: end.videoSink), link(audio, "src", to: end.audioSink) else {
            discard(phone, in: bin)
            end.voice.map { gst_object_unref(UnsafeMutableRawPointer($0)) }
            throw MediaError(.pipelineFailed, "phone \(id): its end refused the payloaded streams")
        }
        // Downstream first: nothing may push into an element that is not playing yet.
        if let voice = end.voice {
            defer { gst_object_unref(UnsafeMutableRawPointer(voice)) }
            do throws(MediaError) {
                try attachVoice(&phone, from: voice, bin: bin)
            } catch {
                discard(phone, in: bin)
                throw error
            }
        }
        for element in end.elements + [video, audio] { gst_element_sync_state_with_parent(element) }
        guard let videoTeePad = teePad("vtee", into: video), let audioTeePad = teePad("atee", into: audio) else {
            discard(phone, in: bin)
            throw MediaError(.pipelineFailed, "phone \(id): no pad on the encoders' tees")
        }
        phone.videoTeePad = videoTeePad
        phone.audioTeePad = audioTeePad
        phones[id] = phone
        Log.info("media", "visit: \(id) joined; \(phones.count) phone(s) on")
        requestKeyframe(for: id)
    }

    /// Links a phone's voice (Opus RTP; a webrtcbin's new src pad) through a decoder into the mixer.
    public func addVoice(_ id: String, from pad: UnsafeMutablePointer<GstPad>) throws(MediaError) {
        guard let pipeline, var phone = phones[id] else { throw MediaError(.pipelineFailed, "no phone \(id) on the visit") }
        guard phone.voiceDecoder == nil else { throw MediaError(.negotiationFailed, "phone \(id) already has a voice") }
        // Kept even on failure: whatever was added is the phone's and leaves with it.
        defer { phones[id] = phone }
        try attachVoice(&phone, from: pad, bin: cast(pipeline, to: GstBin.self))
    }

    /// Takes a phone off the visit; the others keep flowing. Returns false when it was not on.
    @discardableResult
    public func removePhone(_ id: String) -> Bool {
        guard let pipeline, let phone = phones.removeValue(forKey: id) else { return false }
        let bin = cast(pipeline, to: GstBin.self)
        // Only this phone's tee pads are blocked, and only while no buffer is passing through them.
        for (teeName, teePad) in [("vtee", phone.videoTeePad), ("atee", phone.audioTeePad)] {
            guard let pad = teePad else { continue }
            unlinkWhenIdle(pad)
            if let tee = gst_bin_get_by_name(bin, teeName) {
                gst_element_release_request_pad(tee, pad)
                gst_object_unref(UnsafeMutableRawPointer(tee))
            }
        }
        discard(phone, in: bin)
        Log.info("media", "visit: \(id) left; \(phones.count) phone(s) on")
        return true
    }

    /// A phone needs a keyframe (it joined, or sent a PLI/FIR): the one encoder makes one, at most once per
    /// `keyframeGapMicros` (`KeyframeGate`).
    public func requestKeyframe(for id: String) {
        keyframes?.request()
    }

    // MARK: - Pieces

    private func branch(_ description: String) throws(MediaError) -> UnsafeMutablePointer<GstElement> {
        var error: UnsafeMutablePointer<GError>?
        guard let element = gst_parse_bin_from_description(description, 1, &error), error == nil else {
            throw MediaError(.missingElement, "visit branch: \(takeError(error))")
        }
        return element
    }

    private func link(_ element: UnsafeMutablePointer<GstElement>, _ padName: String,
                      to sink: UnsafeMutablePointer<GstPad>) -> Bool {
        guard let pad = gst_element_get_static_pad(element, padName) else { return false }
        defer { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        return gst_pad_link(pad, sink) == GST_PAD_LINK_OK
    }

    /// A new source pad on tee `name`, linked to `branch`'s sink. The caller owns the returned reference.
    private func teePad(_ name: String, into branch: UnsafeMutablePointer<GstElement>) -> UnsafeMutablePointer<GstPad>? {
        guard let pipeline, let tee = gst_bin_get_by_name(cast(pipeline, to: GstBin.self), name) else { return nil }
        defer { gst_object_unref(UnsafeMutableRawPointer(tee)) }
        guard let pad = gst_element_request_pad_simple(tee, "src_%u") else { return nil }
        guard let sink = gst_element_get_static_pad(branch, "sink") else {
            gst_element_release_request_pad(tee, pad)
            gst_object_unref(UnsafeMutableRawPointer(pad))
            return nil
        }
        defer { gst_object_unref(UnsafeMutableRawPointer(sink)) }
        guard gst_pad_link(pad, sink) == GST_PAD_LINK_OK else {
            gst_element_release_request_pad(tee, pad)
            gst_object_unref(UnsafeMutableRawPointer(pad))
            return nil
        }
        return pad
    }

    private func attachVoice(_ phone: inout Phone, from pad: UnsafeMutablePointer<GstPad>,
                             bin: UnsafeMutablePointer<GstBin>) throws(MediaError) {
        let decoder = try branch("rtpopusdepay ! opusdec plc=true ! audioconvert ! audioresample"
            + " ! audio/x-raw,format=S16LE,rate=48000,channels=1"
            + " ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=100000000 leaky=downstream")
        gst_bin_add(bin, decoder)
        phone.voiceDecoder = decoder
        guard let mixer = gst_bin_get_by_name(bin, "visitmix") else {
            throw MediaError(.pipelineFailed, "visit pipeline has no mixer")
        }
        defer { gst_object_unref(UnsafeMutableRawPointer(mixer)) }
        guard let mixerPad = gst_element_request_pad_simple(mixer, "sink_%u") else {
            throw MediaError(.pipelineFailed, "the visit's mixer gave no pad")
        }
        phone.mixerPad = mixerPad
        gst_pad_add_probe(mixerPad, GST_PAD_PROBE_TYPE_BUFFER, measureVoice,
                          Unmanaged.passRetained(phone.meter).toOpaque(), releaseMeter)
        guard link(decoder, "src", to: mixerPad) else {
            throw MediaError(.pipelineFailed, "the phone's voice would not link to the mixer")
        }
        gst_element_sync_state_with_parent(decoder)
        guard let sink = gst_element_get_static_pad(decoder, "sink") else {
            throw MediaError(.pipelineFailed, "the voice decoder has no sink pad")
        }
        defer { gst_object_unref(UnsafeMutableRawPointer(sink)) }
        guard gst_pad_link(pad, sink) == GST_PAD_LINK_OK else {
            throw MediaError(.negotiationFailed, "the phone's audio is not Opus RTP")
        }
    }

    /// Stops a phone's elements, gives back its mixer pad and drops its references.
    private func discard(_ phone: Phone, in bin: UnsafeMutablePointer<GstBin>) {
        let elements = phone.endElements + phone.branches + (phone.voiceDecoder.map { [$0] } ?? [])
        for element in elements { gst_element_set_state(element, GST_STATE_NULL) }
        if let mixerPad = phone.mixerPad, let mixer = gst_bin_get_by_name(bin, "visitmix") {
            gst_element_release_request_pad(mixer, mixerPad)
            gst_object_unref(UnsafeMutableRawPointer(mixer))
        }
        for element in elements { gst_bin_remove(bin, element) }
        unref(phone)
    }

    private func unref(_ phone: Phone) {
        if let mixerPad = phone.mixerPad { gst_object_unref(UnsafeMutableRawPointer(mixerPad)) }
        for pad in [phone.videoTeePad, phone.audioTeePad] {
            if let pad { gst_object_unref(UnsafeMutableRawPointer(pad)) }
        }
    }

}

/// Waits (on this thread; the probe runs on whichever thread finds the pad idle) until no buffer is passing
/// through `pad`, and unlinks it there. Used by `HouseholdVisit` too.
func unlinkWhenIdle(_ pad: UnsafeMutablePointer<GstPad>) {
    let done = DispatchSemaphore(value: 0)
    let box = Unmanaged.passRetained(IdleUnlink(done)).toOpaque()
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_IDLE, unlinkOnIdle, box,
                      { data in if let data { Unmanaged<IdleUnlink>.fromOpaque(data).release() } })
    if done.wait(timeout: .now() + .seconds(2)) == .timedOut {
        Log.warning("media", "visit: a phone's branch stayed busy for 2 s; unlinking it anyway")
        if let peer = gst_pad_get_peer(pad) {
            gst_pad_unlink(pad, peer)
            gst_object_unref(UnsafeMutableRawPointer(peer))
        }
    }
}

private final class IdleUnlink: Sendable {
    let done: DispatchSemaphore
    init(_ done: DispatchSemaphore) { self.done = done }
}

private let unlinkOnIdle: GstPadProbeCallback = { pad, _, data in
    guard let pad, let data else { return GST_PAD_PROBE_REMOVE }
    if let peer = gst_pad_get_peer(pad) {
        gst_pad_unlink(pad, peer)
        gst_object_unref(UnsafeMutableRawPointer(peer))
    }
    Unmanaged<IdleUnlink>.fromOpaque(data).takeUnretainedValue().done.signal()
    return GST_PAD_PROBE_REMOVE
}

private let releaseMeter: GDestroyNotify = { data in
    if let data { Unmanaged<PhoneMeter>.fromOpaque(data).release() }
}

private let countVideoPacket: GstPadProbeCallback = { _, _, data in
    guard let data else { return GST_PAD_PROBE_OK }
    Unmanaged<PhoneMeter>.fromOpaque(data).takeUnretainedValue().videoPackets.add(1, ordering: .relaxed)
    return GST_PAD_PROBE_OK
}

/// RMS of one buffer of S16 mono at the phone's mixer pad.
private let measureVoice: GstPadProbeCallback = { _, info, data in
    guard let info, let data, let measured = s16RMSPermille(info) else { return GST_PAD_PROBE_OK }
    let meter = Unmanaged<PhoneMeter>.fromOpaque(data).takeUnretainedValue()
    meter.voiceRMSPermille.store(measured.permille, ordering: .relaxed)
    meter.voiceBuffers.add(1, ordering: .relaxed)
    return GST_PAD_PROBE_OK
}

/// The RMS of the probed buffer of S16 samples, in 1/1000 of full scale, and how many samples it has; nil for no
/// buffer or no samples.
func s16RMSPermille(_ info: UnsafeMutablePointer<GstPadProbeInfo>) -> (permille: Int, samples: Int)? {
    guard let raw = info.pointee.data else { return nil }
    let buffer = raw.assumingMemoryBound(to: GstBuffer.self)
    var map = GstMapInfo()
    guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return nil }
    defer { gst_buffer_unmap(buffer, &map) }
    let count = Int(map.size) / 2
    guard count > 0, let bytes = map.data else { return nil }
    var sum = 0.0
    bytes.withMemoryRebound(to: Int16.self, capacity: count) { samples in
        for index in 0..<count { let value = Double(samples[index]); sum += value * value }
    }
    return (Int((sum / Double(count)).squareRoot() / 32.768), count)
}
