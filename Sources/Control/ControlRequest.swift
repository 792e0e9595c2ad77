import DoorCore

/// One request on the control socket (`{"cmd":…, …}`), its command typed. The commands are listed once here;
/// docs/control-socket.md documents each one and `ControlRequestTests` checks that the two agree.
public struct ControlRequest: Sendable {
    public enum Command: String, CaseIterable, Sendable {
        case press, state, link, hangup, keyframe, camera, chat, connect, disconnect, call, events
        case pair, pairings, unpair
        case pushKey = "push-key", pushSubscribe = "push-subscribe", pushSubscriptions = "push-subscriptions"
        case pushUnsubscribe = "push-unsubscribe"
        case visits, visitsDelete = "visits-delete"

        /// The list an error names when a request's command is unknown.
        public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
    }

    public let command: Command
    /// The whole request, for the command's own fields.
    public let json: JSONValue

    /// Nil when the request has no `cmd` string or names no known command.
    public init?(_ json: JSONValue) {
        guard let name = json["cmd"]?.stringValue, let command = Command(rawValue: name) else { return nil }
        self.command = command
        self.json = json
    }

    /// The reply to a request whose command is unknown.
    public static func unknown(_ json: JSONValue) -> JSONValue {
        ["ok": false, "error": .string("unknown cmd \(json["cmd"]?.stringValue ?? "(none)"); try \(Command.names)")]
    }
}
