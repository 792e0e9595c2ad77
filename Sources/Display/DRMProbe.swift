import CDrm
#if canImport(Glibc)
import Glibc
#endif

/// Finds the KMS/DRM devices and their connectors with libdrm (`drmModeGetResources`, `drmModeGetConnector`),
/// so start-up can say in one line whether a real screen exists before choosing a sink.
public enum DRMProbe {
    /// Every `card*` node under `directory` that does mode setting, in card order.
    ///
    /// Throws `DisplayError.noDisplay` when there is no card node, or none that can be opened and does KMS
    /// (a render-only node such as the Pi 4's `v3d` card is skipped).
    public static func cards(in directory: String = "/dev/dri") throws -> [DRMCard] {
        let paths = cardPaths(in: directory)
        guard !paths.isEmpty else { throw DisplayError.noDisplay("no \(directory)/card* device") }
        var cards: [DRMCard] = []
        var problems: [String] = []
        for path in paths {
            switch probe(path) {
            case .success(let card): cards.append(card)
            case .failure(let problem): problems.append(problem.reason)
            }
        }
        guard !cards.isEmpty else {
            throw DisplayError.noDisplay("no KMS device: " + problems.joined(separator: "; "))
        }
        return cards
    }

    private struct Problem: Error { let reason: String }

    private static func cardPaths(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var numbers: [Int] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("card"), let n = Int(name.dropFirst(4)), n >= 0 { numbers.append(n) }
        }
        return numbers.sorted().map { "\(directory)/card\($0)" }
    }

    private static func probe(_ path: String) -> Result<DRMCard, Problem> {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Problem(reason: "\(path): \(errnoText(errno))")) }
        defer { close(fd) }
        guard let resources = drmModeGetResources(fd) else {
            return .failure(Problem(reason: "\(path): no mode setting (\(errnoText(errno)))"))
        }
        defer { drmModeFreeResources(resources) }
        let ids = UnsafeBufferPointer(start: resources.pointee.connectors,
                                      count: Int(max(0, resources.pointee.count_connectors)))
        let connectors = ids.compactMap { connector(fd: fd, id: $0) }
        return .success(DRMCard(path: path, driver: driver(fd: fd), connectors: connectors))
    }

    private static func driver(fd: Int32) -> String {
        guard let version = drmGetVersion(fd) else { return "unknown" }
        defer { drmFreeVersion(version) }
        return version.pointee.name.map { String(cString: $0) } ?? "unknown"
    }

    private static func connector(fd: Int32, id: UInt32) -> DRMConnector? {
        guard let connector = drmModeGetConnector(fd, id) else { return nil }
        defer { drmModeFreeConnector(connector) }
        let c = connector.pointee
        let typeName = drmModeGetConnectorTypeName(c.connector_type).map { String(cString: $0) } ?? "Unknown"
        let modes = UnsafeBufferPointer(start: c.modes, count: Int(max(0, c.count_modes)))
        let preferred = modes.first { $0.type & UInt32(DRM_MODE_TYPE_PREFERRED) != 0 } ?? modes.first
        return DRMConnector(
            id: c.connector_id,
            name: "\(typeName)-\(c.connector_type_id)",
            connected: c.connection == DRM_MODE_CONNECTED,
            preferredMode: preferred.map(mode),
            modes: modes.map(mode))
    }

    private static func mode(_ info: drmModeModeInfo) -> DRMMode {
        let name = withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return DRMMode(width: Int(info.hdisplay), height: Int(info.vdisplay), refreshHz: Int(info.vrefresh), name: name)
    }
}
