import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop

/// The ICE servers and the connect bound of every webrtcbin the door builds: calls it answers and places
/// (`CallSession`), data connections, pairing and ring links (`DataSession`). The executable sets `servers`
/// once at start; it is asked again for each new webrtcbin, so credentials minted from a TURN shared secret
/// are fresh for every connection.
@GLibActor
public enum WebRTCICE {
    /// The ICE servers for a new peer connection (`TURNCredential.servers` over the `ice:` section).
    public static var servers: @Sendable () -> [ICEServer] = { [] }
    /// How long a call may go without a working candidate pair before the door gives up on it.
    public static var connectTimeoutMillis = 20_000

    /// Sets `stun-server` (the first STUN server: webrtcbin takes one) and adds every TURN server with
    /// `add-turn-server`. A server webrtcbin refuses is logged and skipped.
    static func apply(to webrtc: UnsafeMutablePointer<GstElement>) {
        var stunSet = false
        for server in servers() {
            guard let uri = server.gstreamerURI else {
                Log.warning("media", "ICE server \(server.url) is not a URL webrtcbin takes; skipped")
                continue
            }
            if uri.hasPrefix("stun:") {
                guard !stunSet else { continue }
                ic_object_set_string(UnsafeMutableRawPointer(webrtc), "stun-server", uri)
                stunSet = true
            } else if ic_webrtc_add_turn_server(webrtc, uri) == 0 {
                Log.warning("media", "webrtcbin refused TURN server \(server.url)")
            }
        }
    }

    /// The `typ` of an ICE candidate line (`candidate:… typ srflx raddr …`): host, srflx, prflx or relay.
    public nonisolated static func candidateType(_ candidate: String) -> String? {
        let words = candidate.split(separator: " ")
        guard let index = words.firstIndex(of: "typ"), index + 1 < words.count else { return nil }
        return String(words[index + 1])
    }
}

/// The candidate types of the pair webrtcbin selected, from a `get-stats` reply: its `candidate-pair`
/// entry names a local and a remote candidate entry, whose `candidate-type` says host, srflx, prflx or relay.
/// nil when the reply has no such pair (GStreamer before 1.22, or no pair yet).
func selectedPairTypes(_ outcome: PromiseOutcome) -> (local: String, remote: String)? {
    guard case .replied(let reply?) = outcome else { return nil }
    let structureType = gst_structure_get_type()
    var entries: [String: UnsafePointer<GstStructure>] = [:]
    var pairs: [UnsafePointer<GstStructure>] = []
    for index in 0..<gst_structure_n_fields(reply) {
        guard let name = gst_structure_nth_field_name(reply, guint(index)),
              let value = gst_structure_get_value(reply, name), g_type_check_value_holds(value, structureType) != 0,
              let stats = gst_value_get_structure(value) else { continue }
        var type: gint = 0
        guard gst_structure_get_enum(stats, "type", gst_webrtc_stats_type_get_type(), &type) != 0 else { continue }
        if type == gint(GST_WEBRTC_STATS_CANDIDATE_PAIR.rawValue) { pairs.append(stats) }
        if let id = gst_structure_get_string(stats, "id") { entries[String(cString: id)] = stats }
    }
    for pair in pairs {
        guard let localID = gst_structure_get_string(pair, "local-candidate-id"),
              let remoteID = gst_structure_get_string(pair, "remote-candidate-id"),
              let local = entries[String(cString: localID)], let remote = entries[String(cString: remoteID)],
              let localType = gst_structure_get_string(local, "candidate-type"),
              let remoteType = gst_structure_get_string(remote, "candidate-type") else { continue }
        return (String(cString: localType), String(cString: remoteType))
    }
    return nil
}
