/// The `notify:` section: who hears about a ring, and how. Every target gets the join link, so the section
/// is the list of places the link (with its secret, once rooms carry one) may go — nothing else receives it.
extension Configuration {
    public struct Notify: Sendable, Equatable {
        /// PEM file of the certificate authorities HTTPS targets are checked against, instead of the system's
        /// (a home server with its own CA). nil: the system's list.
        public var caFile: String?
        public var targets: [NotifyTarget] = []
        /// A still from the camera, taken at the press, goes with each ring to the targets, Web Push and the
        /// paired browsers (`notify.picture`, default true). Nothing is taken when nobody would receive it.
        public var picture = true
        /// How long the targets wait for the picture before the ring goes without it (`notify.picture_wait_ms`):
        /// the camera starts at the press, so the picture is usually there a few hundred ms later.
        public var pictureWaitMillis = 600
        public init() {}
    }

    public struct NotifyTarget: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            /// POST of a JSON object to any URL.
            case webhook
            /// An ntfy topic (ntfy.sh or a self-hosted server): a phone notification that opens the link.
            case ntfy
            /// A Home Assistant webhook trigger, `POST <url>/api/webhook/<webhook_id>`.
            case homeassistant
        }
        public var kind: Kind
        /// `http(s)://…`: the webhook's URL, the ntfy topic's URL, or Home Assistant's address.
        public var url: String
        /// Sent as `Authorization: Bearer <token>` (an ntfy access token, a webhook's shared secret).
        public var token: String?
        /// ntfy priority, 1 (min) to 5 (max); nil: the server's default (3).
        public var priority: Int?
        /// Home Assistant: the trigger's webhook ID.
        public var webhookID: String?

        public init(kind: Kind, url: String, token: String? = nil, priority: Int? = nil, webhookID: String? = nil) {
            self.kind = kind
            self.url = url
            self.token = token
            self.priority = priority
            self.webhookID = webhookID
        }
    }

    static let notifyKeys = ["ca_file", "targets", "picture", "picture_wait_ms"]

    mutating func readNotify(_ s: ConfigSection) throws(ConfigurationError) {
        if let path = try s.string("ca_file") {
            guard path.hasPrefix("/") else { throw s.fail("ca_file", "must be an absolute path, not '\(path)'") }
            notify.caFile = path
        }
        if let picture = try s.bool("picture") { notify.picture = picture }
        if let ms = try s.int("picture_wait_ms", in: 0...5000, unit: "ms") { notify.pictureWaitMillis = ms }
        guard let node = s.node("targets") else { return }
        guard case .sequence(let items) = node.value else {
            throw ConfigurationError(.wrongType, key: s.key("targets"), line: s.line("targets"),
                                     "must be a list of targets (- type: webhook|ntfy|homeassistant, url: …), "
                                     + "not \(node.kindName)")
        }
        for (index, item) in items.enumerated() {
            notify.targets.append(try Self.readTarget(item, path: s.key("targets") + "[\(index)]"))
        }
    }

    private static func readTarget(_ node: ConfigNode, path: String) throws(ConfigurationError) -> NotifyTarget {
        let s = try ConfigSection(node, path: path, keys: ["type", "url", "token", "priority", "webhook_id"])
        guard let kind = try s.choice("type", NotifyTarget.Kind.self) else {
            throw ConfigurationError(.badValue, key: s.key("type"), line: s.line,
                                     "is required: webhook, ntfy or homeassistant")
        }
        guard let url = try s.string("url") else {
            throw ConfigurationError(.badValue, key: s.key("url"), line: s.line, "is required: the \(kind.rawValue) target's address")
        }
        guard let rest = stripScheme(url, ["http://", "https://"]), hasHost(rest) else {
            throw s.fail("url", "must be an http:// or https:// URL with a host, not '\(url)'")
        }
        guard !url.contains("#"), !url.contains(" ") else { throw s.fail("url", "must have no '#' or spaces") }
        var target = NotifyTarget(kind: kind, url: url)
        if let token = try s.string("token") {
            guard !token.isEmpty, token.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
                throw s.fail("token", "must be printable ASCII with no spaces")
            }
            target.token = token
        }
        switch kind {
        case .ntfy:
            let path = rest.drop { $0 != "/" }.dropFirst()
            guard isNtfyTopic(path) else {
                throw s.fail("url", "must end in the topic, e.g. https://ntfy.sh/door-7f3k2q9x (letters, digits, - or _; "
                             + "the topic is the password, make it long)")
            }
            target.priority = try s.int("priority", in: 1...5)
        case .homeassistant:
            guard let id = try s.string("webhook_id") else {
                throw ConfigurationError(.badValue, key: s.key("webhook_id"), line: s.line,
                                         "is required: the Webhook ID of the Home Assistant trigger")
            }
            guard isNtfyTopic(Substring(id)) else { throw s.fail("webhook_id", "must be letters, digits, - or _") }
            guard !rest.contains("?") else { throw s.fail("url", "must be Home Assistant's address, with no '?'") }
            target.url = url.hasSuffix("/") ? String(url.dropLast()) : url
            target.webhookID = id
        case .webhook:
            break
        }
        for (name, allowed) in [("priority", kind == .ntfy), ("webhook_id", kind == .homeassistant)]
        where !allowed && s.node(name) != nil {
            throw s.fail(name, "is not used by \(kind.rawValue) targets")
        }
        return target
    }

    /// ntfy topics and Home Assistant webhook IDs: 1…64 of letters, digits, - and _.
    static func isNtfyTopic(_ text: Substring) -> Bool {
        (1...64).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
