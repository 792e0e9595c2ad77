import ArgumentParser
import Control
import DoorCore
import Notify

/// `intercom ctl …`: talks to a running intercom over its control socket.
struct ControlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl", abstract: "Control a running intercom: press a button, read its state, follow events.",
        subcommands: [Press.self, State.self, Link.self, Events.self, HangUp.self, Connect.self, Chat.self, Call.self,
                      Pair.self, Pairings.self, Unpair.self, Visits.self])

    struct Common: ParsableArguments {
        @Option(help: "Control socket path.")
        var control = RunCommand.defaultControlPath
    }

    struct Press: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Press a button: doorbell, answer, decline, mute.")
        @OptionGroup var common: Common
        @Argument var button: String
        @Flag(help: "A long press.") var long = false

        func run() throws {
            guard Button(rawValue: button) != nil else {
                throw ValidationError("no button '\(button)'; use doorbell, answer, decline or mute")
            }
            try ControlCommand.request(common.control, ["cmd": "press", "button": .string(button), "long": .bool(long)])
        }
    }

    struct State: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the device's state as JSON.")
        @OptionGroup var common: Common
        func run() throws { try ControlCommand.request(common.control, ["cmd": "state"]) }
    }

    struct Link: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the open room's whole join link, secret included (state shows it redacted).")
        @OptionGroup var common: Common
        func run() throws {
            let reply = try ControlClient(path: common.control).send(["cmd": "link"])
            guard reply["ok"]?.boolValue == true, let link = reply["link"]?.stringValue else {
                print(reply.jsonText())
                throw ExitCode(1)
            }
            print(link)
        }
    }

    struct HangUp: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "hangup", abstract: "Hang up the running call.")
        @OptionGroup var common: Common
        func run() throws { try ControlCommand.request(common.control, ["cmd": "hangup"]) }
    }

    struct Connect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a data connection from the door's home ID to a PeerJS peer (chat with `ctl chat --peer`).")
        @OptionGroup var common: Common
        @Argument(help: "The peer's PeerJS ID.") var peer: String
        @Option(help: "binary, json or raw.") var serialization = "json"
        @Option(help: "The data channel's label (default: the connectionId).") var label: String?

        func run() throws {
            var request: [String: JSONValue] = ["cmd": "connect", "peer": .string(peer), "serialization": .string(serialization)]
            if let label { request["label"] = .string(label) }
            try ControlCommand.request(common.control, .object(request))
        }
    }

    struct Call: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The door calls a PeerJS peer (audio and video) from its home ID; `ctl hangup` or DECLINE cancels.")
        @OptionGroup var common: Common
        @Argument(help: "The peer's PeerJS ID.") var peer: String
        @Option(help: "What the door's screen calls the peer (default: Resident).") var name: String?
        func run() throws {
            var request: [String: JSONValue] = ["cmd": "call", "peer": .string(peer)]
            if let name { request["name"] = .string(name) }
            try ControlCommand.request(common.control, .object(request))
        }
    }

    struct Chat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a chat message: to the caller of the running call, or over `ctl connect`'s link to --peer.")
        @OptionGroup var common: Common
        @Argument var text: String
        @Option(help: "A peer connected with `ctl connect`.") var peer: String?

        func run() throws {
            var request: [String: JSONValue] = ["cmd": "chat", "text": .string(text)]
            if let peer { request["peer"] = .string(peer) }
            try ControlCommand.request(common.control, .object(request))
        }
    }

    struct Pair: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open the pairing window: the door's screen shows a QR code to scan with the phone to pair.")
        @OptionGroup var common: Common
        func run() throws { try ControlCommand.request(common.control, ["cmd": "pair"]) }
    }

    struct Pairings: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the paired browsers.")
        @OptionGroup var common: Common
        @Flag(help: "Print the reply as JSON.") var json = false

        func run() throws {
            let reply = try ControlClient(path: common.control).send(["cmd": "pairings"])
            guard !json, reply["ok"]?.boolValue == true, case .array(let list)? = reply["pairings"] else {
                print(reply.jsonText())
                if reply["ok"]?.boolValue != true { throw ExitCode(1) }
                return
            }
            if list.isEmpty { return print("no paired browsers") }
            print(["ID", "NAME", "PAIRED", "LAST SEEN", "ONLINE AT LAST RING", "PUSH"].joined(separator: "\t"))
            for p in list {
                func time(_ key: String) -> String {
                    p[key]?.numberValue.map { RingNotice(doorName: "", code: "", link: "", timeMillis: Int64($0)).timeText } ?? "-"
                }
                let online = p["onlineAtLastRing"]?.boolValue.map { $0 ? "yes" : "no" } ?? "-"
                print([p["id"]?.stringValue ?? "", p["name"]?.stringValue ?? "", time("createdAt"), time("lastSeenAt"),
                       online, p["push"]?.boolValue == true ? "yes" : "no"].joined(separator: "\t"))
            }
        }
    }

    struct Unpair: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a paired browser (by its id, or its name when only one has it); its push subscription goes too.")
        @OptionGroup var common: Common
        @Argument(help: "The pairing's id or name.") var pairing: String
        func run() throws { try ControlCommand.request(common.control, ["cmd": "unpair", "id": .string(pairing)]) }
    }

    struct Visits: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the visits (rings) newest first, or delete one with its clip (docs/visits.md).")
        @OptionGroup var common: Common
        @Option(help: "Delete this visit (its id) and its clip.") var delete: String?
        @Flag(help: "Print the reply as JSON.") var json = false

        func run() throws {
            if let delete { return try ControlCommand.request(common.control, ["cmd": "visits-delete", "id": .string(delete)]) }
            let reply = try ControlClient(path: common.control).send(["cmd": "visits"])
            guard !json, reply["ok"]?.boolValue == true, case .array(let list)? = reply["visits"] else {
                print(reply.jsonText())
                if reply["ok"]?.boolValue != true { throw ExitCode(1) }
                return
            }
            if list.isEmpty { return print("no visits") }
            print(["ID", "WHEN", "OUTCOME", "BY", "SECONDS", "CLIP"].joined(separator: "\t"))
            for v in list {
                let when = v["at"]?.numberValue.map { RingNotice(doorName: "", code: "", link: "", timeMillis: Int64($0)).timeText } ?? "-"
                let by = v["byName"]?.stringValue ?? (v["by"]?.stringValue == "link" ? "visitor link" : "-")
                let seconds = v["durationMs"]?.numberValue.map { String(Int(($0 / 1000).rounded())) } ?? "-"
                let clip = v["clip"]?.stringValue.map { name in
                    name + (v["clipBytes"]?.numberValue.map { " (\(Int($0) / 1000) kB)" } ?? "")
                } ?? "-"
                print([v["id"]?.stringValue ?? "", when, v["outcome"]?.stringValue ?? "open", by, seconds, clip]
                    .joined(separator: "\t"))
            }
        }
    }

    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print events as JSON lines until interrupted.")
        @OptionGroup var common: Common
        func run() throws {
            let client = try ControlClient(path: common.control)
            try client.streamEvents { event in
                print(event.jsonText())
                return true
            }
        }
    }

    static func request(_ path: String, _ request: JSONValue) throws {
        let reply = try ControlClient(path: path).send(request)
        print(reply.jsonText())
        if reply["ok"]?.boolValue != true { throw ExitCode(1) }
    }
}
