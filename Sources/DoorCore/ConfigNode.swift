/// A parsed config document as the core sees it: mappings, sequences and scalars, each with the line it
/// starts on. The file format's reader (YAML, in the `ConfigFile` module) builds it; `Configuration` types it,
/// so the rules about keys, types and ranges live in pure Swift and are tested without any parser.
public struct ConfigNode: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        /// A scalar's text; `quoted` scalars are always strings (`"8080"` is not a number).
        case scalar(String, quoted: Bool)
        /// Entries in file order; a key may appear twice here, which `Configuration` rejects.
        case mapping([Entry])
        case sequence([ConfigNode])
    }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var line: Int
        public var value: ConfigNode

        public init(key: String, line: Int, value: ConfigNode) {
            self.key = key
            self.line = line
            self.value = value
        }
    }

    public var value: Value
    /// 1-based line in the file.
    public var line: Int

    public init(_ value: Value, line: Int) {
        self.value = value
        self.line = line
    }

    /// An unquoted scalar that reads as null in YAML: empty, `~` or `null`.
    public var isNull: Bool {
        if case .scalar(let text, quoted: false) = value { return ["", "~", "null", "Null", "NULL"].contains(text) }
        return false
    }

    /// What the node is, in the words an error message uses.
    var kindName: String {
        switch value {
        case .mapping: return "a section"
        case .sequence: return "a list"
        case .scalar(let text, let quoted):
            if isNull { return "empty" }
            return quoted ? "the text \"\(text)\"" : "'\(text)'"
        }
    }
}
