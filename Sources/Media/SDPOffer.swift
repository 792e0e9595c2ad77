/// The parts of a remote SDP offer that decide how we build the send branches, parsed in pure Swift before
/// GStreamer sees the offer. In GStreamer 1.22 webrtcbin answers recvonly, silently, unless our send pads
/// already carry the offer's payload types (docs/media.md#answering-an-offer), so this choice comes first.
public struct SDPOffer: Sendable, Equatable {
    public struct Payload: Sendable, Equatable {
        public var type: Int
        public var encoding: String   // upper-cased, e.g. "H264", "OPUS"
        public var clockRate: Int
        public var fmtp: [String: String]
    }

    public struct Section: Sendable, Equatable {
        public var kind: String        // audio, video, application
        public var port: Int
        public var mid: String?
        public var direction: String   // sendrecv, sendonly, recvonly, inactive
        public var payloads: [Payload]
        /// `a=extmap` header extensions: URI → the offer's ID.
        public var extensions: [String: Int] = [:]
    }

    /// Chromium's playout-delay header extension: a sender that puts min = max = 0 in it asks the receiver to
    /// render each picture the moment it is decoded, with no jitter buffer target in between.
    public static let playoutDelayURI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

    public static let maxBytes = 32 * 1024
    public static let maxSections = 8

    public var sections: [Section]

    public init(parsing sdp: String) throws(MediaError) {
        guard sdp.utf8.count <= Self.maxBytes else { throw MediaError(.badOffer, "SDP over \(Self.maxBytes) bytes") }
        guard sdp.hasPrefix("v=0") else { throw MediaError(.badOffer, "SDP does not start with v=0") }
        var sections: [Section] = []
        var rtpmaps: [Int: (String, Int)] = [:]
        var fmtps: [Int: [String: String]] = [:]
        var order: [Int] = []

        func finish() {
            guard var last = sections.popLast() else { return }
            last.payloads = order.compactMap { pt in
                guard let (encoding, rate) = rtpmaps[pt] else { return nil }
                return Payload(type: pt, encoding: encoding, clockRate: rate, fmtp: fmtps[pt] ?? [:])
            }
            sections.append(last)
            rtpmaps = [:]; fmtps = [:]; order = []
        }

        for rawLine in sdp.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            let line = Substring(rawLine)
            if line.hasPrefix("m=") {
                finish()
                guard sections.count < Self.maxSections else {
                    throw MediaError(.badOffer, "more than \(Self.maxSections) m-lines")
                }
                let fields = line.dropFirst(2).split(separator: " ")
                guard fields.count >= 3, let port = Int(fields[1]) else { throw MediaError(.badOffer, "bad m-line") }
                order = fields.dropFirst(3).compactMap { Int($0) }
                sections.append(Section(kind: String(fields[0]), port: port, mid: nil, direction: "sendrecv", payloads: []))
            } else if !sections.isEmpty, line.hasPrefix("a=") {
                let attribute = line.dropFirst(2)
                if ["sendrecv", "sendonly", "recvonly", "inactive"].contains(attribute) {
                    sections[sections.count - 1].direction = String(attribute)
                } else if attribute.hasPrefix("extmap:") {
                    // a=extmap:<id>[/<direction>] <uri> [<attributes>]
                    let parts = attribute.dropFirst(7).split(separator: " ")
                    guard parts.count >= 2, let id = Int(parts[0].split(separator: "/")[0]), (1...14).contains(id)
                    else { continue }
                    sections[sections.count - 1].extensions[String(parts[1])] = id
                } else if attribute.hasPrefix("mid:") {
                    sections[sections.count - 1].mid = String(attribute.dropFirst(4))
                } else if attribute.hasPrefix("rtpmap:") {
                    let parts = attribute.dropFirst(7).split(separator: " ", maxSplits: 1)
                    guard parts.count == 2, let pt = Int(parts[0]) else { continue }
                    let codec = parts[1].split(separator: "/")
                    guard codec.count >= 2, let rate = Int(codec[1]) else { continue }
                    rtpmaps[pt] = (codec[0].uppercased(), rate)
                } else if attribute.hasPrefix("fmtp:") {
                    let parts = attribute.dropFirst(5).split(separator: " ", maxSplits: 1)
                    guard parts.count == 2, let pt = Int(parts[0]) else { continue }
                    var values: [String: String] = [:]
                    for pair in parts[1].split(separator: ";") {
                        let kv = pair.split(separator: "=", maxSplits: 1)
                        let key = kv[0].trimmingSpaces().lowercased()
                        values[key] = kv.count == 2 ? kv[1].trimmingSpaces() : ""
                    }
                    fmtps[pt] = values
                }
            }
        }
        finish()
        guard !sections.isEmpty else { throw MediaError(.badOffer, "no m-lines") }
        self.sections = sections
    }

    /// Index of the first active section of `kind`, and the section.
    public func section(_ kind: String) -> (index: Int, section: Section)? {
        for (i, s) in sections.enumerated() where s.kind == kind && s.port != 0 { return (i, s) }
        return nil
    }

    public var hasDataChannel: Bool { section("application") != nil }

    /// The H.264 payload type to send: packetization-mode=1 with profile-level-id 42e01f, else 42001f, else any
    /// constrained-baseline/baseline with packetization-mode=1. Nil when the offer has no usable H.264.
    public func preferredH264() -> Payload? {
        guard let video = section("video")?.section else { return nil }
        let h264 = video.payloads.filter { $0.encoding == "H264" && $0.clockRate == 90000 && $0.fmtp["packetization-mode"] == "1" }
        for wanted in ["42e01f", "42001f"] {
            if let p = h264.first(where: { $0.fmtp["profile-level-id"]?.lowercased() == wanted }) { return p }
        }
        return h264.first { p in
            guard let profile = p.fmtp["profile-level-id"]?.lowercased() else { return true }
            return profile.hasPrefix("42")
        }
    }

    /// The VP8 payload type, for a peer that offers no usable H.264.
    public func preferredVP8() -> Payload? {
        section("video")?.section.payloads.first { $0.encoding == "VP8" && $0.clockRate == 90000 }
    }

    /// The Opus payload type (48 kHz), if the offer has active audio with Opus.
    public func preferredOpus() -> Payload? {
        section("audio")?.section.payloads.first { $0.encoding == "OPUS" && $0.clockRate == 48000 }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
