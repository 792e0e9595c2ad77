import ArgumentParser
import Door
import DoorCore
import Glibc

/// `intercom web export --out DIR`: the web client as a static site for any HTTPS host, with a `config.json`
/// made from the door's config (signaling server, key, room prefix, STUN and TURN servers). A TURN shared
/// secret is never written: such a server is listed by URL only and the page takes its credential from the
/// room's link (`RoomTURN`).
struct WebCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web", abstract: "The web client for hosting elsewhere.", subcommands: [WebExportCommand.self])
}

struct WebExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the web client with a config.json for this door's deployment into a directory.")

    @Option(help: "The door's config file (YAML); its signaling, room prefix and ice sections are used.")
    var config: String?

    @Option(help: "The web client to copy. (default: the checkout's or the installed one)")
    var webRoot: String?

    @Option(help: "Directory to write the site into (created if missing; files in it are replaced).")
    var out: String

    func run() throws {
        let configuration = try config.map(ConfigCheck.load) ?? Configuration()
        guard let source = webRoot ?? configuration.web.root ?? DeviceOptions.defaultWebRoot() else {
            throw ValidationError("no web client found: give --web-root DIR (the directory with index.html)")
        }
        guard access(source + "/index.html", R_OK) == 0 else {
            throw ValidationError("\(source) has no index.html: --web-root must be the web client's directory")
        }
        var copied = 0
        try copyTree(from: source, to: out, count: &copied)
        let page = PageConfiguration(configuration: configuration)
        try write(Array(page.json(now: PageConfiguration.now(), servedByDoor: false).utf8), to: out + "/config.json")
        let secrets = configuration.ice.turnServers.compactMap { server -> String? in
            if case .sharedSecret(let secret, _) = server.auth { secret } else { nil }
        }
        print("\(out): \(copied) files and config.json")
        if !secrets.isEmpty {
            print("note: \(secrets.count) TURN server(s) with shared_secret are in config.json without credentials: "
                  + "the page uses the one each room's link carries; see docs/answer-from-anywhere.md")
        }
        if Set(secrets).count > 1 {
            print("warning: the TURN servers have different shared secrets; a room's link carries a credential "
                  + "for the first one's only, so a hosted page cannot use the others")
        }
    }

    private func copyTree(from source: String, to target: String, count: inout Int) throws {
        if mkdir(target, 0o755) != 0, errno != EEXIST {
            throw ValidationError("cannot create \(target): \(String(cString: strerror(errno)))")
        }
        guard let directory = opendir(source) else {
            throw ValidationError("cannot read \(source): \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            // The served config.json is replaced; dot files (editor leftovers) stay behind.
            guard !name.hasPrefix("."), !(name == "config.json" && target == out) else { continue }
            var info = stat()
            guard stat(source + "/" + name, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                try copyTree(from: source + "/" + name, to: target + "/" + name, count: &count)
            } else if info.st_mode & S_IFMT == S_IFREG {
                guard let bytes = readAll(source + "/" + name) else {
                    throw ValidationError("cannot read \(source)/\(name)")
                }
                try write(bytes, to: target + "/" + name)
                count += 1
            }
        }
    }

    private func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
        }
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += n
        }
    }
}
