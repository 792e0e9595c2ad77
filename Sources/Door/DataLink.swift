import DoorCore
import MainLoop
import Media
import Signaling

/// One PeerJS data connection with one peer, in either direction (docs/signaling.md#data-connections): a
/// `DataMedia` (a webrtcbin `DataSession`, or a test's fake, from `DataLinkParts.media`), the
/// `DataChannelCodec` of the connection's serialization, and the signaling client its OFFER/ANSWER/CANDIDATE
/// messages go through. Values in and out are JSON; raw bytes (BinaryPack raw, `raw`
/// binary messages) have no JSON form and are dropped with a debug line.
///
/// Outgoing: `DataLink(to:…)`, then `start()` sends the OFFER; the owner routes the peer's ANSWER and
/// CANDIDATEs here by (peer, connectionId). Incoming: `DataLink(offer:…)`, then `start()` answers.
@GLibActor
final class DataLink {
    enum Direction: String, Sendable { case outgoing, incoming }

    /// Who is at the other end and what the connection is, fixed when it is made.
    struct About {
        let peer: String
        let connectionId: String
        let direction: Direction
        let label: String
        let serialization: DataSerialization
        let metadata: JSONValue?
    }

    /// An outgoing link not open this long after `start()` is closed with "timeout" (a peer that never answers).
    static let openTimeoutMillis: UInt32 = 20_000

    let about: About

    /// The channel is open: `send` works from now on.
    var onOpen: (@GLibActor () -> Void)?
    /// Each value the peer sends, in order.
    var onMessage: (@GLibActor (JSONValue) -> Void)?
    /// Asked first about each message, as received (bytes and all): true takes it (`PictureDrop`).
    var onData: (@GLibActor (DataValue) -> Bool)?
    /// Once, when the link is over: nil for our own `close()`, else why ("offline" after EXPIRE: the peer is
    /// not on the signaling server; "left", "timeout", "the peer closed the channel", …).
    var onClosed: (@GLibActor (_ reason: String?) -> Void)?

    /// The offer's and the answer's SDP once known.
    fileprivate var negotiated: (offer: String?, answer: String?) = (nil, nil)
    /// Whether the session reported `.closed`, and why the link was ended (set by `end`, reported then).
    fileprivate var ending: (closed: Bool, reason: String?) = (false, nil)

    fileprivate let session: any DataMedia
    private var codec: DataChannelCodec
    private weak var signaling: (any SignalingChannel)?
    private var openTimer: GLibTimer?
    /// The door's limit for a silent link, and whom to tell when one is lost.
    private let liveness: LinkKeepalive.Policy
    /// Keepalives from the project's page, and the silence watch they arm (LinkKeepalive.swift).
    fileprivate lazy var keepalive = LinkKeepalive(limitMillis: liveness.limitMillis) { [weak self] silence in
        self?.lost(after: silence)
    }

    /// Outgoing, through `signaling` (its registration is the `src` the peer sees). `reliable` (ordered) as
    /// PeerJS 1.5 `connect(id, {reliable: true})`.
    init(to peer: String, label: String?, serialization: DataSerialization, metadata: JSONValue?,
         through signaling: any SignalingChannel, parts: DataLinkParts) {
        let connectionId = Self.newConnectionId()
        about = About(peer: peer, connectionId: connectionId, direction: .outgoing, label: label ?? connectionId,
                      serialization: serialization, metadata: metadata)
        self.signaling = signaling
        session = parts.media.offeringData(CallStateMachine.CallID(peer: peer, connectionId: connectionId),
                                           label: label ?? connectionId, ordered: true)
        codec = DataChannelCodec(serialization: serialization)
        liveness = parts.liveness
        wire()
    }

    /// Incoming, from a data OFFER's payload; throws when the offer is no data connection's or its
    /// serialization is unknown. Builds nothing until `start()`.
    init(offer payload: ConnectionPayload, from peer: String, through signaling: any SignalingChannel,
         parts: DataLinkParts) throws(SignalingError) {
        guard let serialization = DataSerialization(wireName: payload.serialization) else {
            throw SignalingError(.malformedMessage, "unknown serialization \(payload.serialization ?? "")")
        }
        do {
            session = try parts.media.answeringData(CallStateMachine.CallID(peer: peer, connectionId: payload.connectionId),
                                                    offerSDP: payload.sdp.sdp)
        } catch {
            throw SignalingError(.malformedMessage, "\(error)")
        }
        about = About(peer: peer, connectionId: payload.connectionId, direction: .incoming,
                      label: payload.label ?? payload.connectionId, serialization: serialization, metadata: payload.metadata)
        self.signaling = signaling
        // PeerJS 1.4 (its payloads carry `browser`) sends JSON as text messages; 1.5 as binary.
        codec = DataChannelCodec(serialization: serialization, jsonAsText: payload.browser != nil)
        liveness = parts.liveness
        negotiated.offer = payload.sdp.sdp
        wire()
    }

    /// `dc_` + a PeerJS-style random token, as `peer.connect()` makes them.
    static func newConnectionId() -> String { "dc_" + PeerJSClient.randomToken() }

    /// Builds the pipeline: sends the OFFER (outgoing) or the ANSWER (incoming). False when it could not start
    /// (then `onClosed` has been called).
    @discardableResult
    func start() -> Bool {
        do { try session.start() } catch {
            Log.warning("intercom", "cannot start the data connection \(peer)/\(connectionId): \(error)")
            end(because: "\(error)")
            return false
        }
        if direction == .outgoing {
            openTimer = GLibTimer(milliseconds: Self.openTimeoutMillis) { [weak self] in
                guard let self, !self.isOpen else { return }
                Log.info("intercom", "data connection to \(self.peer) (\(self.connectionId)) not open after "
                         + "\(Self.openTimeoutMillis / 1000) s; giving up")
                self.end(because: "timeout")
            }
        }
        return true
    }

    /// The peer's ANSWER (outgoing links only; anything else is dropped).
    func receivedAnswer(_ payload: ConnectionPayload) {
        guard direction == .outgoing, !isClosed, negotiated.answer == nil, payload.sdp.type == "answer" else {
            return Log.debug("intercom", "dropped an ANSWER for \(peer)/\(connectionId)")
        }
        negotiated.answer = payload.sdp.sdp
        // PeerJS 1.4 answers with `browser` in its payload and takes JSON only as text messages; 1.5 as binary.
        if payload.browser != nil, serialization == .json {
            codec = DataChannelCodec(serialization: serialization, jsonAsText: true)
        }
        do { try session.setRemoteAnswer(payload.sdp.sdp) } catch {
            Log.info("intercom", "the answer of \(peer)/\(connectionId) is unusable: \(error)")
            end(because: "bad answer")
        }
    }

    func addRemoteCandidate(_ payload: CandidatePayload) {
        session.addRemoteCandidate(mline: payload.sdpMLineIndex, candidate: payload.candidate)
    }

    /// Sends one value in the link's serialization; false when the link is not open or the value does not fit
    /// it (a map on a `raw` link, a JSON message of 16 300 bytes or more).
    @discardableResult
    func send(_ value: JSONValue) -> Bool {
        guard isOpen else { return false }
        let frames: [DataChannelCodec.Frame]
        do { frames = try codec.frames(for: DataValue(value)) } catch {
            Log.info("intercom", "not sent to \(peer)/\(connectionId): \(error)")
            return false
        }
        var ok = true
        for frame in frames {
            switch frame {
            case .text(let text): ok = session.send(text: text) && ok
            case .binary(let bytes): ok = session.send(bytes: bytes) && ok
            }
        }
        return ok
    }

    /// Closes the link from our side; `onClosed(nil)` follows.
    func close() { end(because: nil) }

    /// Closes the link for a reason the signaling server or the owner knows ("offline", "left").
    func end(because reason: String?) {
        guard !isClosed, ending.reason == nil else { return }
        ending.reason = reason
        openTimer = nil
        keepalive.stop()
        session.close()
    }

    // MARK: - Wiring

    private func wire() {
        let peer = self.peer, connectionId = self.connectionId
        session.onEvent = { [weak self] event in
            guard let self else { return }
            switch event {
            case .offer(let sdp):
                negotiated.offer = sdp
                let payload = ConnectionPayload(sdp: SessionDescription(type: "offer", sdp: sdp), type: .data,
                                                connectionId: connectionId, metadata: metadata, label: label,
                                                reliable: true, serialization: serialization.rawValue)
                signaling?.send(PeerJSMessage(type: .offer, dst: peer, payload: payload.json))
            case .answer(let sdp):
                negotiated.answer = sdp
                let payload = ConnectionPayload(sdp: SessionDescription(type: "answer", sdp: sdp), type: .data,
                                                connectionId: connectionId)
                signaling?.send(PeerJSMessage(type: .answer, dst: peer, payload: payload.json))
            case .localCandidate(let mline, let candidate):
                let payload = LocalCandidate.payload(candidate, mline: mline, offerSDP: offerSDP, type: .data,
                                                     connectionId: connectionId)
                signaling?.send(PeerJSMessage(type: .candidate, dst: peer, payload: payload.json))
            case .open:
                openTimer = nil
                onOpen?()
            case .message(let message):
                received(message)
            case .closed(let detail):
                guard !isClosed else { return }
                ending.closed = true
                openTimer = nil
                keepalive.stop()
                onClosed?(ending.reason ?? detail)
            }
        }
    }

    private func received(_ message: DataSession.Message) {
        let frame: DataChannelCodec.Frame = switch message {
        case .text(let text): .text(text)
        case .bytes(let bytes): .binary(bytes)
        }
        let received: DataChannelCodec.Received?
        do { received = try codec.receive(frame) } catch {
            return Log.debug("intercom", "dropped a data message from \(peer): \(error)")
        }
        switch received {
        case .close:
            end(because: "the peer closed the connection")
        case .message(let value):
            if keepalive.heard(value.json) {
                send(LinkKeepalive.ack)
                return
            }
            if let onData, onData(value) { return }
            guard let json = value.json else {
                return Log.debug("intercom", "dropped a data message from \(peer): raw bytes have no JSON form")
            }
            onMessage?(json)
        case nil:
            _ = keepalive.heard(nil)
        }
    }

    private func lost(after silenceMillis: Int64) {
        guard !isClosed, ending.reason == nil else { return }
        Log.info("intercom", "data connection \(label) with \(peer) (\(connectionId)): nothing from the peer for "
                 + "\(silenceMillis) ms; closed as lost")
        liveness.onLost?(peer, connectionId, label, silenceMillis)
        end(because: "lost")
    }
}

/// What the link is, read from its parts.
extension DataLink {
    var peer: String { about.peer }
    var connectionId: String { about.connectionId }
    var direction: Direction { about.direction }
    var label: String { about.label }
    var serialization: DataSerialization { about.serialization }
    var metadata: JSONValue? { about.metadata }
    /// The offer's and the answer's SDP once known (to bind proofs to both `a=fingerprint`s).
    var offerSDP: String? { negotiated.offer }
    var answerSDP: String? { negotiated.answer }
    var isClosed: Bool { ending.closed }
    var isOpen: Bool { session.isOpen && !isClosed }
    /// The peer keeps the link alive: a silence of `media.lost_after_seconds` closes it as "lost".
    var isKeptAlive: Bool { keepalive.isArmed }
}

/// What every data link of one door is made with: where its data sessions come from (the media seam) and how
/// its keepalives are watched. One per `Device`, handed to the home ID and the room's chats.
struct DataLinkParts {
    let media: any MediaSessions
    var liveness = LinkKeepalive.Policy()
}
