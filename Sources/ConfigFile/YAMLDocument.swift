import CYAML
import DoorCore

/// Parses YAML text into a `ConfigNode` tree with libyaml's event parser (`yaml_parser_parse`), keeping each
/// node's line. One document; anchors, aliases and custom tags are refused (a config file does not need them,
/// and they would make the line a value came from ambiguous).
final class YAMLDocument {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>

    /// Owns the parser (`yaml_parser_initialize` / `yaml_parser_delete`) and a copy of the text it reads.
    private init(text: String) throws(ConfigurationError) {
        parser = .allocate(capacity: 1)
        let bytes = Array(text.utf8)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        guard yaml_parser_initialize(parser) != 0 else {
            input.deallocate()
            parser.deallocate()
            throw ConfigurationError(.syntax, key: "", line: nil, "cannot start the YAML parser (out of memory)")
        }
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The document's root node; an empty file is an empty mapping (everything default).
    static func parse(_ text: String) throws(ConfigurationError) -> ConfigNode {
        try YAMLDocument(text: text).root()
    }

    /// Deepest nesting of sections and lists; the config needs 4. Deeper input is refused as soon as it is
    /// met, before libyaml reads the rest (50,000 levels once took half a minute).
    static let maxDepth = 16

    private enum Open {
        case mapping(line: Int, entries: [ConfigNode.Entry], pendingKey: (String, Int)?)
        case sequence(line: Int, items: [ConfigNode])
    }

    private func root() throws(ConfigurationError) -> ConfigNode {
        var stack: [Open] = []
        var root: ConfigNode?
        var documents = 0

        // Adds a finished node to whatever is open, or makes it the root.
        func add(_ node: ConfigNode) throws(ConfigurationError) {
            guard let top = stack.popLast() else {
                root = node
                return
            }
            switch top {
            case .sequence(let line, var items):
                items.append(node)
                stack.append(.sequence(line: line, items: items))
            case .mapping(let line, var entries, let pendingKey):
                if let (key, keyLine) = pendingKey {
                    entries.append(ConfigNode.Entry(key: key, line: keyLine, value: node))
                    stack.append(.mapping(line: line, entries: entries, pendingKey: nil))
                } else {
                    guard case .scalar(let key, _) = node.value else {
                        throw ConfigurationError(.syntax, key: "", line: node.line, "a key must be a plain word, not a list or section")
                    }
                    stack.append(.mapping(line: line, entries: entries, pendingKey: (key, node.line)))
                }
            }
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(parser, &event) != 0 else { throw syntaxError() }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root ?? ConfigNode(.mapping([]), line: 1)
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                guard documents == 1 else {
                    throw ConfigurationError(.syntax, key: "", line: line, "only one YAML document is allowed (found a second '---')")
                }
            case YAML_MAPPING_START_EVENT where stack.count >= Self.maxDepth,
                 YAML_SEQUENCE_START_EVENT where stack.count >= Self.maxDepth:
                throw ConfigurationError(.syntax, key: "", line: line, "nested deeper than \(Self.maxDepth) levels")
            case YAML_MAPPING_START_EVENT:
                try checkTag(event.data.mapping_start.tag, anchor: event.data.mapping_start.anchor, line: line)
                stack.append(.mapping(line: line, entries: [], pendingKey: nil))
            case YAML_MAPPING_END_EVENT:
                guard case .mapping(let start, let entries, _) = stack.popLast() else { continue }
                try add(ConfigNode(.mapping(entries), line: start))
            case YAML_SEQUENCE_START_EVENT:
                try checkTag(event.data.sequence_start.tag, anchor: event.data.sequence_start.anchor, line: line)
                stack.append(.sequence(line: line, items: []))
            case YAML_SEQUENCE_END_EVENT:
                guard case .sequence(let start, let items) = stack.popLast() else { continue }
                try add(ConfigNode(.sequence(items), line: start))
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let isString = try checkTag(scalar.tag, anchor: scalar.anchor, line: line)
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length)), as: UTF8.self)
                let quoted = isString || scalar.style != YAML_PLAIN_SCALAR_STYLE
                try add(ConfigNode(.scalar(text, quoted: quoted), line: line))
            case YAML_ALIAS_EVENT:
                throw ConfigurationError(.syntax, key: "", line: line, "aliases (*name) are not supported in the config file")
            default:
                continue
            }
        }
    }

    /// Refuses anchors and every tag but `!!str`; true when the node is tagged `!!str`.
    @discardableResult
    private func checkTag(_ tag: UnsafeMutablePointer<yaml_char_t>?, anchor: UnsafeMutablePointer<yaml_char_t>?,
                          line: Int) throws(ConfigurationError) -> Bool {
        if anchor != nil {
            throw ConfigurationError(.syntax, key: "", line: line, "anchors (&name) are not supported in the config file")
        }
        guard let tag else { return false }
        let name = String(cString: tag)
        if name == "tag:yaml.org,2002:str" { return true }
        if name == "tag:yaml.org,2002:map" || name == "tag:yaml.org,2002:seq" || name == "!" { return false }
        throw ConfigurationError(.syntax, key: "", line: line, "tag \(name) is not supported in the config file")
    }

    private func syntaxError() -> ConfigurationError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown problem"
        let context = p.context.map { String(cString: $0) + ": " } ?? ""
        return ConfigurationError(.syntax, key: "", line: Int(p.problem_mark.line) + 1, "YAML: \(context)\(problem)")
    }
}
