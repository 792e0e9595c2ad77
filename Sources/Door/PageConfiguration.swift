import Admission
import DoorCore
import Glibc
import Signaling

/// The web page's `config.json`, made from the door's own configuration: where the signaling server is, the
/// room prefix, the ICE servers, how long a call may try to connect and how long a silent door is waited
/// for (`lostAfterSeconds`). Served by the built-in server (made per request, so TURN credentials minted from
/// a shared secret are fresh) and written by `web export`.
/// A TURN shared secret never goes in: the page gets a minted username and credential, or (for an exported
/// site, which is written once) the server's URL only, marked `credentialFrom: room`: the room's link carries
/// the credential in its fragment (`RoomTURN`).
public struct PageConfiguration: Sendable {
    public var configuration: Configuration

    public init(configuration: Configuration) { self.configuration = configuration }

    /// The text of `config.json`. `servedByDoor`: the built-in server serves the page, so an empty host and
    /// port 0 mean "where the page came from"; otherwise the signaling server is named in full.
    public func json(now: Int, servedByDoor: Bool) -> String {
        var signaling: [String: JSONValue] = ["host": .string(""), "port": .number(0), "path": .string("/"),
                                              "key": .string(configuration.signaling.key), "secure": .null]
        if let server = configuration.signaling.server, let url = try? WebSocketURL(parsing: server) {
            signaling["host"] = .string(url.host)
            signaling["port"] = .number(Double(url.port))
            signaling["secure"] = .bool(url.secure)
            signaling["path"] = .string(configuration.signaling.path == "/" ? url.path : configuration.signaling.path)
        } else if !servedByDoor, let listen = configuration.signaling.listen {
            // The exported page talks to the door's built-in server, named by the web base's host.
            signaling["host"] = .string(Self.host(of: configuration.web.base) ?? listen.host)
            signaling["port"] = .number(Double(listen.port))
            signaling["secure"] = .bool(configuration.signaling.tlsCertificate != nil)
        }
        let servers = servedByDoor
            ? TURNCredential.servers(configuration.ice, name: "page", now: now).map(\.jsonValue)
            : Self.withoutSharedSecrets(configuration.ice).map(\.jsonValue) + Self.roomCredentialed(configuration.ice)
        let object: JSONValue = .object([
            "signaling": .object(signaling),
            "roomPrefix": .string(configuration.signaling.roomPrefix),
            "iceServers": .array(servers),
            "iceTimeoutSeconds": .number(Double(configuration.ice.connectTimeoutSeconds)),
            // The page gives up on a silent door after the door's own limit for a silent peer (calls and data links).
            "lostAfterSeconds": .number(Double(configuration.media.lostAfterSeconds)),
        ])
        return object.jsonText() + "\n"
    }

    /// STUN servers and fixed-credential TURN servers: what may sit in a file written once.
    static func withoutSharedSecrets(_ ice: Configuration.ICE) -> [ICEServer] {
        var fixed = ice
        fixed.turnServers = ice.turnServers.filter { if case .fixed = $0.auth { true } else { false } }
        return TURNCredential.servers(fixed, name: "page", now: 0)
    }

    /// The TURN servers with a shared secret, for a file written once: the URL only and `"credentialFrom":
    /// "room"`, which tells the page to use the room link's fragment credential (`RoomTURN`) for them, and to
    /// leave the server out when the link has none (a typed code, a reload in a new tab).
    static func roomCredentialed(_ ice: Configuration.ICE) -> [JSONValue] {
        ice.turnServers.compactMap { server in
            guard case .sharedSecret = server.auth else { return nil }
            return .object(["urls": .string(server.url), "credentialFrom": .string("room")])
        }
    }

    static func host(of url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        return String(authority.prefix { $0 != ":" })
    }

    public static func now() -> Int { Int(time(nil)) }
}
