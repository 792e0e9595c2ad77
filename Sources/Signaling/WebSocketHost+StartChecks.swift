import CWebSockets
import Glibc
import DoorCore
import MainLoop

/// What `init` finds out before lws starts, so a failure is said in words: descriptors, the GLib plugin, the
/// TLS files, the port.
extension WebSocketHost {
    /// The process's soft RLIMIT_NOFILE (1024 when it cannot be read).
    static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_cur) // RLIM_INFINITY is all ones: clamped to Int.max
    }

    /// lws's share of `descriptorLimit`: a quarter (at least 64) is kept for the rest of the process, and lws's
    /// tables stay small however high the limit is (with this set below the limit, lws searches them).
    nonisolated static func socketLimit(descriptorLimit: Int) -> Int {
        let reserve = max(64, descriptorLimit / 4)
        return min(8192, max(16, descriptorLimit - reserve))
    }

    /// lws loads its GLib event-loop plugin with `dlopen` for each context and unloads it when the context's
    /// shutdown finishes — a shutdown lws 4.1 finishes from inside a GLib source of that very plugin, so the
    /// return lands in unmapped code (SIGSEGV). One more `dlopen` of ours, with RTLD_NODELETE, keeps the plugin
    /// mapped for the life of the process. nil when done; otherwise what is wrong, in words.
    static let glibPluginPinned: String? = {
        guard let directory = loadedLibraryDirectory(prefix: "libwebsockets.so") else {
            return "cannot find where libwebsockets is installed (no libwebsockets.so in /proc/self/maps)"
        }
        let plugin = directory + "/libwebsockets-evlib_glib.so"
        guard dlopen(plugin, RTLD_NOW | RTLD_NODELETE) != nil else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown error"
            return "libwebsockets' GLib event-loop plugin does not load (\(why)); install the Debian package "
                + "libwebsockets-evlib-glib"
        }
        return nil
    }()

    /// The directory of the first mapped file whose name starts with `prefix` (lws looks for its plugins there).
    static func loadedLibraryDirectory(prefix: String) -> String? {
        guard let file = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard let slash = text.firstIndex(of: "/") else { continue }
            let path = text[slash...]
            guard let lastSlash = path.lastIndex(of: "/"), path[path.index(after: lastSlash)...].hasPrefix(prefix)
            else { continue }
            return String(path[..<lastSlash])
        }
        return nil
    }

    /// The certificate and key must be readable files: say which one is not, before lws says only "failed".
    static func checkReadable(_ tls: TLSFiles) throws(SignalingError) {
        for (what, path) in [("certificate", tls.certificate), ("private key", tls.privateKey)] {
            guard access(path, R_OK) == 0 else {
                throw SignalingError(.listenFailed, "cannot read the TLS \(what) \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Binds a throwaway IPv4 TCP socket to `host:port` (with SO_REUSEADDR, as lws does) and closes it.
    static func checkCanListen(host: String, port: Int) throws(SignalingError) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let any = host.isEmpty || host == "0.0.0.0" || host == "*"
        guard any || inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SignalingError(.listenFailed, "cannot listen on \(host):\(port): not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SignalingError(.listenFailed, "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            throw SignalingError(.listenFailed, "cannot listen on \(host):\(port): \(String(cString: strerror(errno)))")
        }
    }
}
