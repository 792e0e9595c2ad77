import Crypto
import DoorCore

/// Short-lived TURN credentials by the TURN REST convention coturn implements (`use-auth-secret` with
/// `static-auth-secret`): username `<expiry unix seconds>:<name>`, credential base64(HMAC-SHA1(secret,
/// username)). The server recomputes the credential from the username and refuses it after the expiry, so
/// a page holding one can use the relay for that long and never learns the secret.
public enum TURNCredential {
    public static func credential(secret: String, username: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(username.utf8),
                                                          using: SymmetricKey(data: Array(secret.utf8)))
        return base64(Array(mac))
    }

    /// A username valid until `expiry` (unix seconds) and its credential.
    public static func mint(secret: String, name: String, expiry: Int) -> (username: String, credential: String) {
        let username = "\(expiry):\(name)"
        return (username, credential(secret: secret, username: username))
    }

    /// The `ice:` section resolved for use now: fixed credentials as they are, shared secrets turned into
    /// credentials that expire after the server's lifetime or `notAfter` (unix seconds), whichever is first
    /// (a room's link: its credentials die with the room). `name` goes into the username (coturn logs it).
    public static func servers(_ ice: Configuration.ICE, name: String, now: Int, notAfter: Int? = nil) -> [ICEServer] {
        var list = ice.stunServers.map { ICEServer(url: $0) }
        for server in ice.turnServers {
            switch server.auth {
            case .fixed(let username, let credential):
                list.append(ICEServer(url: server.url, username: username, credential: credential))
            case .sharedSecret(let secret, let lifetime):
                let expiry = min(now + lifetime, notAfter ?? Int.max)
                let minted = mint(secret: secret, name: name, expiry: expiry)
                list.append(ICEServer(url: server.url, username: minted.username, credential: minted.credential))
            }
        }
        return list
    }

    /// The TURN credential carried in a room's link (for a page hosted elsewhere), minted from the first TURN
    /// server with a shared secret, or nil without one. It is usable while the room is open and then for the
    /// server's lifetime, so a call started in the room keeps its relay (coturn checks the expiry again on
    /// every allocation and permission refresh) and the credential is dead that long after the room closes.
    /// A hosted page applies it to every TURN server the exported config.json lists without credentials,
    /// so those servers must share the secret (`web export` warns when they do not).
    public static func room(_ ice: Configuration.ICE, now: Int, roomLifetimeSeconds: Int) -> RoomTURN? {
        for server in ice.turnServers {
            if case .sharedSecret(let secret, let lifetime) = server.auth {
                let expiry = now + roomLifetimeSeconds + lifetime
                return RoomTURN(expiry: expiry, credential: mint(secret: secret, name: RoomTURN.name, expiry: expiry).credential)
            }
        }
        return nil
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? table[(value >> (18 - 6 * position)) & 63] : "=")
            }
            index += 3
        }
        return out
    }
}
