import Glibc

/// Everything `intercom run` was told, validated.
struct DeviceOptions: Sendable {
    var listen: (host: String, port: Int)?
    var signaling: String?
    var key: String
    var webRoot: String?
    var webBase: String
    var roomPrefix: String
    var controlPath: String
    var snapshotDirectory: String
    var doorName: String
    var roomLifetimeMillis: Int64

    static func parseListen(_ text: String) -> (host: String, port: Int)? {
        guard text != "off", let colon = text.lastIndex(of: ":"),
              let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        let host = String(text[..<colon])
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// The checkout's web client when run from the source tree, else the installed one.
    static func defaultWebRoot() -> String? {
        for candidate in ["rootfs-overlay/usr/share/intercom/web", "/usr/share/intercom/web"]
        where access(candidate + "/index.html", R_OK) == 0 {
            return candidate
        }
        return nil
    }
}
