import DoorCore
import MainLoop

/// A `ButtonSource` whose presses come from code: the control socket's `press` command, and tests.
@GLibActor
public final class SimulatedButtons: ButtonSource {
    private var handler: (@GLibActor (ButtonPress) -> Void)?

    public nonisolated init() {}

    public func start(_ handler: @escaping @GLibActor (ButtonPress) -> Void) {
        self.handler = handler
    }

    public func stop() {
        handler = nil
    }

    /// Delivers `press` to the handler at once. Returns false (and drops it) when not started.
    @discardableResult
    public func press(_ press: ButtonPress) -> Bool {
        guard let handler else { return false }
        Log.info("buttons", "simulated \(press.long ? "long " : "")\(press.button.rawValue)")
        handler(press)
        return true
    }

    /// Answers a control-socket request `{"cmd":"press","button":"doorbell","long":false}`: `{"ok":true}` once
    /// delivered, or `{"ok":false,"error":…}` naming what is wrong.
    public func handle(pressRequest request: JSONValue) -> JSONValue {
        guard let name = request["button"]?.stringValue else {
            return ["ok": false, "error": .string("press needs \"button\": one of \(Self.buttonNames)")]
        }
        guard let button = Button(rawValue: name) else {
            return ["ok": false, "error": .string("unknown button '\(name)' (one of \(Self.buttonNames))")]
        }
        var long = false
        switch request["long"] {
        case nil, .null?: break
        case .bool(let value)?: long = value
        default: return ["ok": false, "error": "\"long\" must be true or false"]
        }
        guard press(ButtonPress(button, long: long)) else {
            return ["ok": false, "error": "buttons are not started"]
        }
        return ["ok": true]
    }

    private static let buttonNames = Button.allCases.map(\.rawValue).joined(separator: ", ")
}
