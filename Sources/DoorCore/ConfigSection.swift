/// One mapping of a config document being typed: rejects keys it does not know (with the nearest known key
/// as a hint) and keys given twice, and reads values with their type and range checked. Every error names the
/// full dotted key and its line.
struct ConfigSection {
    let path: String
    let line: Int
    private var entries: [String: ConfigNode.Entry] = [:]

    /// `node` must be a mapping (or empty, which reads as a section with nothing set).
    init(_ node: ConfigNode, path: String, keys: [String]) throws(ConfigurationError) {
        self.path = path
        self.line = node.line
        if node.isNull { return }
        guard case .mapping(let list) = node.value else {
            throw ConfigurationError(.wrongType, key: path, line: node.line,
                                     "must be a section (keys: \(keys.joined(separator: ", "))), not \(node.kindName)")
        }
        for entry in list {
            let full = Self.join(path, entry.key)
            guard keys.contains(entry.key) else {
                var message = "unknown key"
                if let near = Self.nearest(entry.key, in: keys) { message += "; did you mean '\(near)'?" }
                message += " (\(path.isEmpty ? "top-level sections" : "keys of \(path)"): \(keys.joined(separator: ", ")))"
                throw ConfigurationError(.unknownKey, key: full, line: entry.line, message)
            }
            if let first = entries[entry.key] {
                throw ConfigurationError(.unknownKey, key: full, line: entry.line, "given twice (first on line \(first.line))")
            }
            entries[entry.key] = entry
        }
    }

    /// Keys present in the file, in file order of first appearance is not needed: sorted, for stable output.
    var presentKeys: [String] { entries.keys.sorted() }

    func key(_ name: String) -> String { Self.join(path, name) }

    func line(_ name: String) -> Int { entries[name]?.line ?? line }

    /// The value under `name`, or nil when the key is absent or left empty (both mean "the default").
    func node(_ name: String) -> ConfigNode? {
        guard let node = entries[name]?.value, !node.isNull else { return nil }
        return node
    }

    func section(_ name: String, keys: [String]) throws(ConfigurationError) -> ConfigSection? {
        guard let node = entries[name]?.value else { return nil }
        return try ConfigSection(node, path: key(name), keys: keys)
    }

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let node = node(name) else { return nil }
        guard case .scalar(let text, _) = node.value else {
            throw ConfigurationError(.wrongType, key: key(name), line: line(name), "must be text, not \(node.kindName)")
        }
        return text
    }

    /// A string that may be explicitly empty (`""`), which a plain absent key cannot say.
    func stringAllowingEmpty(_ name: String) throws(ConfigurationError) -> String? {
        guard let node = entries[name]?.value else { return nil }
        if case .scalar(let text, quoted: true) = node.value { return text }
        if node.isNull { return "" }
        return try string(name)
    }

    func int(_ name: String, in range: ClosedRange<Int>, unit: String = "") throws(ConfigurationError) -> Int? {
        guard let node = node(name) else { return nil }
        let suffix = unit.isEmpty ? "" : " \(unit)"
        guard case .scalar(let text, quoted: false) = node.value, let value = Int(text.replacingUnderscores) else {
            throw ConfigurationError(.wrongType, key: key(name), line: line(name),
                                     "must be a whole number\(suffix), not \(node.kindName)")
        }
        guard range.contains(value) else {
            throw ConfigurationError(.badValue, key: key(name), line: line(name),
                                     "\(value) is out of range: \(range.lowerBound)…\(range.upperBound)\(suffix)")
        }
        return value
    }

    func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let node = node(name) else { return nil }
        if case .scalar(let text, quoted: false) = node.value {
            switch text {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        throw ConfigurationError(.wrongType, key: key(name), line: line(name), "must be true or false, not \(node.kindName)")
    }

    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws(ConfigurationError) -> T?
    where T.RawValue == String {
        guard let text = try string(name) else { return nil }
        guard let value = T(rawValue: text) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(.badValue, key: key(name), line: line(name), "'\(text)' is not one of: \(names)")
        }
        return value
    }

    /// A `badValue` error about `name`, at its line.
    func fail(_ name: String, _ message: String) -> ConfigurationError {
        ConfigurationError(.badValue, key: key(name), line: line(name), message)
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The known key closest to a typo, if it is close (at most two edits, or a different case).
    static func nearest(_ word: String, in keys: [String]) -> String? {
        let scored = keys.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2, best.1 < word.count else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

extension String {
    /// YAML 1.1 allows `1_500`; people write it for bitrates.
    var replacingUnderscores: String { String(filter { $0 != "_" }) }
}
