import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The paired browsers, kept in `<state>/pairings.json`: mode 0600 (the file holds credentials), written with
/// `AtomicFile`, so a power cut leaves the old list or the new one. Loading never fails: a file that is not a
/// list of valid pairings is logged, moved aside to `pairings.json.bad-<ms>` and replaced by what could be kept.
public struct PairingStore: Sendable {
    public struct StoreError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public let path: String
    public private(set) var pairings: [Pairing]

    public init(stateDirectory: String, now: Int64 = wallClockMillis()) {
        path = stateDirectory + "/pairings.json"
        pairings = []
        guard let bytes = AtomicFile.read(path) else { return }
        guard let list = try? JSONDecoder().decode([JSONValue].self, from: Data(bytes)) else {
            setAside(now: now, why: "it is not a JSON list")
            return
        }
        var kept: [Pairing] = []
        var dropped: [String] = []
        for (index, entry) in list.enumerated() {
            guard let data = try? JSONEncoder().encode(entry),
                  let pairing = try? JSONDecoder().decode(Pairing.self, from: data) else {
                dropped.append("entry \(index): missing or mistyped fields")
                continue
            }
            if let problem = pairing.problem {
                dropped.append("entry \(index): \(problem)")
            } else if kept.contains(where: { $0.id == pairing.id }) {
                dropped.append("entry \(index): duplicate id")
            } else {
                kept.append(pairing)
            }
        }
        pairings = kept
        if !dropped.isEmpty {
            setAside(now: now, why: dropped.joined(separator: "; "))
            try? save(kept)
        }
    }

    private func setAside(now: Int64, why: String) {
        let aside = "\(path).bad-\(now)"
        if rename(path, aside) == 0 {
            Log.error("pairing", "\(path) is damaged (\(why)); moved to \(aside), kept \(pairings.count) pairing(s)")
        } else {
            Log.error("pairing", "\(path) is damaged (\(why)) and could not be moved aside; kept \(pairings.count) pairing(s)")
        }
    }

    public func pairing(id: String) -> Pairing? { pairings.first { $0.id == id } }

    /// The pairing `key` names: its id, or its name when exactly one has it.
    public func find(_ key: String) throws(StoreError) -> Pairing {
        if let byID = pairing(id: key) { return byID }
        let named = pairings.filter { $0.name == key }
        if named.count > 1 { throw StoreError(message: "\(named.count) pairings are named \"\(key)\": unpair one by its id") }
        guard let one = named.first else { throw StoreError(message: "no pairing has the id or name \"\(key)\"") }
        return one
    }

    public mutating func add(_ pairing: Pairing) throws(StoreError) {
        // A page that pairs again under the same peer ID replaces its earlier pairing.
        try save(pairings.filter { $0.peerId != pairing.peerId } + [pairing])
    }

    /// Replaces the pairing with `pairing.id`; false when there is none (revoked meanwhile).
    @discardableResult
    public mutating func update(_ pairing: Pairing) throws(StoreError) -> Bool {
        guard let index = pairings.firstIndex(where: { $0.id == pairing.id }) else { return false }
        var list = pairings
        list[index] = pairing
        try save(list)
        return true
    }

    /// Removes the pairing with `id` (and so its push subscription); the removed one, or nil.
    @discardableResult
    public mutating func remove(id: String) throws(StoreError) -> Pairing? {
        guard let gone = pairing(id: id) else { return nil }
        try save(pairings.filter { $0.id != id })
        return gone
    }

    private mutating func save(_ list: [Pairing]) throws(StoreError) {
        do {
            try Self.write(Self.encoded(list), to: path)
        } catch {
            throw StoreError(message: "cannot save pairings: \(error)")
        }
        pairings = list
    }

    // MARK: - Written by the owner (off the loop)

    /// Takes `list` as the pairings now, in memory only: the owner writes `encoded(list)` to `path` itself
    /// (the device does, on its `StateFileWriter`) and puts the old list back if that fails.
    public mutating func keep(_ list: [Pairing]) { pairings = list }

    /// The list with `pairing` added (replacing one with the same peer ID, as `add` does).
    public func adding(_ pairing: Pairing) -> [Pairing] { pairings.filter { $0.peerId != pairing.peerId } + [pairing] }

    /// The list with `pairing` in place of the one with its id; nil when there is none.
    public func updating(_ pairing: Pairing) -> [Pairing]? {
        guard let index = pairings.firstIndex(where: { $0.id == pairing.id }) else { return nil }
        var list = pairings
        list[index] = pairing
        return list
    }

    /// The file's bytes for `list` (the pairings list is a few hundred bytes per pairing).
    public static func encoded(_ list: [Pairing]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Pairing is plain strings and numbers: encoding cannot fail.
        return (try? encoder.encode(list)).map(Array.init) ?? Array("[]".utf8)
    }

    /// Writes the file's bytes as `save` does (mode 0600, atomically); the error names what failed.
    public static func write(_ bytes: [UInt8], to path: String) throws(AtomicFile.WriteError) {
        try AtomicFile.write(bytes, to: path, mode: 0o600)
    }
}
