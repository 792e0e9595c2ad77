import CGStreamer
import DoorCore
import MainLoop

/// What a running call holds, one small value per concern. Each is read and written by the extension named
/// beside it; `CallSession` keeps one of each.
extension CallSession {
    /// The GStreamer objects of the call (`start()` and `stopPipeline()`); nil before the start and after the end.
    struct Elements {
        var pipeline: UnsafeMutablePointer<GstElement>?
        var webrtc: UnsafeMutablePointer<GstElement>?
        /// The call's data channels (the caller's, or the one we offer), each with a reference we hold.
        var dataChannels: [UnsafeMutablePointer<GObject>] = []
        var busWatch: guint = 0
    }

    /// Offer and answer (CallSession+Negotiation.swift).
    struct Negotiation {
        /// Answering: the browser's offer, parsed and as it came; both nil when we offer.
        let offer: SDPOffer?
        let offerText: String?
        /// Remote candidates held until the remote description is set.
        var earlyCandidates = CandidateBuffer<(mline: Int, candidate: String)>()
        var remoteDescriptionApplied = false
        /// Offering: the peer's answer was taken; a second one is ignored.
        var answerGiven = false
        /// Offering: retries `create-offer` until the send pads have caps.
        var offerTimer: GLibTimer?
    }

    /// The ICE connection (CallSession+Media.swift).
    struct ICE {
        /// ICE reached connected once; later state changes are not new connections.
        var connected = false
        /// Candidate types gathered here and heard from the peer, for the log line of a call that never connects.
        var localCandidateTypes: Set<String> = []
        var remoteCandidateTypes: Set<String> = []
        /// Bounds the time from the remote description to a connection.
        var connectTimer: GLibTimer?
        /// The selected candidate pair's types once connected (`local/remote`, e.g. `relay/srflx`).
        var selectedPair: String?
    }

    /// Looking for the peer's DTLS certificate and watching its transport's close (CallSession+DTLS.swift).
    struct DTLSWatch {
        var certificateTimer: GLibTimer?
        var certificateSeen = false
        var transportWatched = false
    }

    /// Whether the peer is still there, from the first ICE connection on (CallSession+Media.swift).
    struct Liveness {
        /// When the peer's packets last arrived.
        let arrivals = PeerArrivals()
        var timer: GLibTimer?
        /// Ended as `.lost`: the milliseconds from the peer's last packet to that end.
        var lostAfterSilenceMillis: Int64?
    }

    /// The video we send and its bitrate, steered by the peer's loss reports (CallSession+Media.swift).
    struct Sending {
        var videoCodec: SendPipeline.VideoCodec?
        var bitrate: BitrateController?
        var statsTimer: GLibTimer?
        /// The last receiver report's counts; only a newer report changes the bitrate.
        var lastLossCounts: (lost: Int, expected: Int)?
    }

    /// What the person at the door switched off during the call.
    struct MediaSwitches {
        var microphoneMuted = false
        var cameraOff = false
    }

    /// Hanging up and the end (CallSession+Teardown.swift).
    struct Ending {
        /// `.ended` was reported: nothing more happens.
        var ended = false
        /// Set while we hang up: the data channels close, then the session finishes.
        var hangUpTimer: GLibTimer?
        var hangingUp: Bool { hangUpTimer != nil }
    }
}
