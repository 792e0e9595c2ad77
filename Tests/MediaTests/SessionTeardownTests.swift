import CGStreamer
import MainLoop
import Testing
@testable import Media

/// A door rings for months: every call and data connection that ends must leave nothing behind — not the
/// Swift session, not the context its C callbacks hold (`SessionLink`/`DataSessionContext`, retained by every signal
/// handler, probe, appsink and bus watch), not one element or pad of its pipeline. The owner's closures name the
/// session the way `Device` does, so a session that kept its callbacks after the end would keep itself alive.
///
/// The sessions answer browser-shaped offers for real (webrtcbin, the test sources, the encoder running) and are
/// ended as in a call; no ICE peer is reachable, so nothing leaves the machine.
@Suite(.serialized) struct SessionTeardownTests {
    init() {
        gst_init(nil, nil)
        GLibLoop.shared.start()
    }

    @Test func callSessionsThatEndLeaveNothingAlive() async throws {
        let engine = try await Self.testEngine()
        for round in 1...3 {
            for ending in [CallEnding.hangUp, .releasedWhileRunning, .droppedOnAnswer] {
                let alive = try await Self.runCall(engine, ending: ending)
                #expect(alive.isEmpty, "round \(round), \(ending): still alive after the call ended: \(alive)")
            }
        }
    }

    @Test func dataSessionsThatCloseLeaveNothingAlive() async throws {
        for round in 1...3 {
            let alive = try await Self.runDataConnection()
            #expect(alive.isEmpty, "round \(round): still alive after the data connection closed: \(alive)")
        }
    }

    enum CallEnding: CustomStringConvertible {
        /// `hangUp()`, then the owner drops the ended session (`Device.callEnded`).
        case hangUp
        /// The owner drops a running session without hanging up (a device shutting down).
        case releasedWhileRunning
        /// The owner drops the session the moment its answer is out (a page that offers and leaves at once), while
        /// webrtcbin may still be applying that answer on its own thread.
        case droppedOnAnswer
        var description: String {
            switch self {
            case .hangUp: "hung up"
            case .releasedWhileRunning: "released while running"
            case .droppedOnAnswer: "dropped on its answer"
            }
        }
    }

    /// The only strong reference to a session dropped from inside its own callback.
    @GLibActor final class SessionHolder {
        var session: CallSession?
    }

    @GLibActor static func testEngine() throws -> MediaEngine {
        // These calls never get the caller's candidates, so the ICE bound is the only thing that ends them on its
        // own: on a loaded 2-core machine, where other suites' blocking tests (tesseract) can hold both threads
        // of the test pool for ~20 s, a test resumed that late must still find its call as it left it.
        WebRTCICE.connectTimeoutMillis = 300_000
        var settings = MediaSettings()
        settings.camera = .test
        settings.microphone = "test"
        settings.speaker = "off"
        return try MediaEngine(settings: settings, inventory: MediaInventory(elements: InstalledElements()))
    }

    /// One call: answered, then ended; what of it is still alive once the owner let go (names; empty = nothing).
    @GLibActor static func runCall(_ engine: MediaEngine, ending: CallEnding) async throws -> [String] {
        let watch = ObjectWatch()
        let events = SessionEvents()
        weak var weakSession: CallSession?
        weak var weakLink: SessionLink?
        weak var weakCounters: MediaCounters?
        if ending == .droppedOnAnswer {
            let holder = SessionHolder()
            holder.session = try CallSession(peer: "teardown-test", connectionId: "mc_teardown",
                                             offerSDP: Self.callOffer, engine: engine)
            weakSession = holder.session
            weakLink = holder.session?.link
            weakCounters = holder.session?.counters
            holder.session?.onEvent = { event in
                guard case .answer(let answer) = event else { return }
                events.answer = answer
                if let pipeline = holder.session?.runningPipeline { watch.watch(pipeline) }
                holder.session = nil
            }
            try holder.session?.start()
            #expect(await poll { events.answer != nil }, "no answer")
            #expect(watch.count > 20, "only \(watch.count) objects in the call pipeline")
        } else {
            let session = try CallSession(peer: "teardown-test", connectionId: "mc_teardown", offerSDP: Self.callOffer,
                                          engine: engine)
            weakSession = session
            weakLink = session.link
            weakCounters = session.counters
            if ending == .hangUp {
                // Like Device: the end handler reads the session it belongs to.
                session.onEvent = { event in
                    events.record(event)
                    if case .localCandidate = event { events.candidates += 1 }
                    if case .ended(let reason, _) = event {
                        events.ended = "\(reason.rawValue), \(session.counters.snapshot.keyframesSent) keyframes sent"
                    }
                }
            } else {
                session.onEvent = { event in
                    events.record(event)
                    if case .localCandidate = event { events.candidates += 1 }
                }
            }
            try session.start()
            #expect(await poll { events.answer != nil }, "no answer")
            #expect(events.answer?.contains("a=sendrecv") == true, "the answer sends nothing")
            let pipeline = try #require(session.runningPipeline)
            watch.watch(pipeline)
            #expect(watch.count > 20, "only \(watch.count) objects in the call pipeline")
            if ending == .hangUp {
                session.hangUp()
                #expect(await poll { events.ended != nil }, "the hang-up never ended the call")
            }
        }
        _ = await poll { weakSession == nil && weakLink == nil && weakCounters == nil && watch.alive.isEmpty }
        var alive = watch.alive
        if weakSession != nil { alive.append("CallSession") }
        if weakLink != nil { alive.append("SessionLink") }
        if weakCounters != nil { alive.append("MediaCounters") }
        return alive
    }

    /// One data connection: answered, then closed by the device; what of it is still alive afterwards.
    @GLibActor static func runDataConnection() async throws -> [String] {
        let watch = ObjectWatch()
        let events = SessionEvents()
        weak var weakSession: DataSession?
        weak var weakLink: DataSessionContext?
        do {
            let session = try DataSession(peer: "teardown-test", connectionId: "dc_teardown", offerSDP: Self.dataOffer)
            weakSession = session
            weakLink = session.link
            session.onEvent = { event in
                if case .answer(let answer) = event { events.answer = answer }
                if case .closed = event { events.ended = "closed \(session.connectionId)" }
            }
            try session.start()
            #expect(await poll { events.answer != nil }, "no answer")
            watch.watch(try #require(session.runningPipeline))
            // At once, while ICE may still be gathering (the GStreamer race `silenceICETransports` is for).
            session.close()
            #expect(await poll { events.ended != nil }, "close() never closed the connection")
        }
        _ = await poll { weakSession == nil && weakLink == nil && watch.alive.isEmpty }
        var alive = watch.alive
        if weakSession != nil { alive.append("DataSession") }
        if weakLink != nil { alive.append("DataSessionContext") }
        return alive
    }

    /// Polls on the GLib loop (each sleep lets it run) until `condition` holds or `seconds` pass.
    @GLibActor static func poll(seconds: Int = 10, _ condition: @GLibActor () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// Shaped like Chromium's `peer.call()` offer (audio, video with H.264 pm=1, data channel), with the ICE and
    /// DTLS lines webrtcbin needs; its candidates never come, so ICE stays on this side.
    static let callOffer = [
        "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1 2",
        "a=msid-semantic: WMS stream",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:Tq4x", "a=ice-pwd:b3dyEFJ1Wq9M7mRnQ0v6Yc2s", "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + fingerprint, "a=setup:actpass", "a=mid:0", "a=sendrecv",
        "a=msid:stream audio0", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1", "a=ssrc:1001 cname:teardown",
        "m=video 9 UDP/TLS/RTP/SAVPF 106", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:Tq4x", "a=ice-pwd:b3dyEFJ1Wq9M7mRnQ0v6Yc2s", "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + fingerprint, "a=setup:actpass", "a=mid:1", "a=sendrecv",
        "a=msid:stream video0", "a=rtcp-mux", "a=rtcp-rsize", "a=rtpmap:106 H264/90000",
        "a=rtcp-fb:106 nack", "a=rtcp-fb:106 nack pli", "a=rtcp-fb:106 ccm fir",
        "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        "a=ssrc:2002 cname:teardown",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
        "a=ice-ufrag:Tq4x", "a=ice-pwd:b3dyEFJ1Wq9M7mRnQ0v6Yc2s", "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + fingerprint, "a=setup:actpass", "a=mid:2", "a=sctp-port:5000",
        "a=max-message-size:262144",
    ].joined(separator: "\r\n") + "\r\n"

    /// A PeerJS data connection's offer: one `m=application` section.
    static let dataOffer = [
        "v=0", "o=- 8120496303524571001 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
        "a=msid-semantic: WMS",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
        "a=ice-ufrag:Zp2w", "a=ice-pwd:H8sk2Lq0vB5nX1cT7yR4mE9d", "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + fingerprint, "a=setup:actpass", "a=mid:0", "a=sctp-port:5000",
        "a=max-message-size:262144",
    ].joined(separator: "\r\n") + "\r\n"

    static let fingerprint = (0..<32).map { byte in
        let hex = String(byte * 7 + 16, radix: 16, uppercase: true)
        return hex.count == 1 ? "0" + hex : hex
    }.joined(separator: ":")
}

/// What the session told its owner (read and written on the GLib loop only).
@GLibActor final class SessionEvents {
    var answer: String?
    var candidates = 0
    var ended: String?

    /// Records a call session's answer and end.
    func record(_ event: CallSession.Event) {
        if case .answer(let sdp) = event { answer = sdp }
        if case .ended(let reason, _) = event { ended = reason.rawValue }
    }
}

/// Weak references (`GWeakRef`) to every element and pad of a pipeline, nested bins included: whatever is still
/// alive later was kept by someone.
@GLibActor final class ObjectWatch {
    private var refs: [(name: String, ref: UnsafeMutablePointer<GWeakRef>)] = []

    var count: Int { refs.count }

    func watch(_ pipeline: UnsafeMutablePointer<GstElement>) {
        add(UnsafeMutableRawPointer(pipeline))
        forEach(gst_bin_iterate_recurse(UnsafeMutablePointer<GstBin>(OpaquePointer(pipeline)))) { element in
            self.add(element)
            self.forEach(gst_element_iterate_pads(element.assumingMemoryBound(to: GstElement.self))) { self.add($0) }
        }
    }

    /// The names (`element` or `element:pad`) of what is still alive.
    var alive: [String] {
        refs.compactMap { entry in
            guard let object = g_weak_ref_get(entry.ref) else { return nil }
            g_object_unref(object)
            return entry.name
        }
    }

    private func add(_ object: UnsafeMutableRawPointer) {
        let gstObject = object.assumingMemoryBound(to: GstObject.self)
        var name = gstObject.pointee.name.map { String(cString: $0) } ?? "?"
        if let parent = gstObject.pointee.parent, g_type_check_instance_is_a(
            UnsafeMutablePointer<GTypeInstance>(OpaquePointer(object)), gst_pad_get_type()) != 0 {
            name = (parent.pointee.name.map { String(cString: $0) } ?? "?") + ":" + name
        }
        let ref = UnsafeMutablePointer<GWeakRef>.allocate(capacity: 1)
        ref.initialize(to: GWeakRef())
        g_weak_ref_init(ref, object)
        refs.append((name, ref))
    }

    private func forEach(_ iterator: UnsafeMutablePointer<GstIterator>?, _ body: (UnsafeMutableRawPointer) -> Void) {
        guard let iterator else { return }
        defer { gst_iterator_free(iterator) }
        var value = GValue()
        while gst_iterator_next(iterator, &value) == GST_ITERATOR_OK {
            if let object = g_value_get_object(&value) { body(object) }
            g_value_reset(&value)
        }
        g_value_unset(&value)
    }

    isolated deinit {
        for entry in refs {
            g_weak_ref_clear(entry.ref)
            entry.ref.deallocate()
        }
    }
}
