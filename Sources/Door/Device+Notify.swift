import Control
import DoorCore
import Glibc
import MainLoop
import Notify

extension Device {
    /// The notifier for `notify.targets` and Web Push. A CA file that does not load stops the start like any
    /// other config mistake (exit 78), naming `notify.ca_file`.
    static func makeNotifier(_ configuration: Configuration) throws -> Notifier {
        let stateDirectory = getenv("STATE_DIRECTORY").map { String(cString: $0) } ?? configuration.paths.state
        // RFC 8292's contact for the push service's operator: the door's own https address when it has one.
        let subject = configuration.web.base.hasPrefix("https://") ? configuration.web.base : "mailto:intercom@localhost"
        let notifier: Notifier
        do { notifier = try Notifier(configuration.notify, stateDirectory: stateDirectory, pushSubject: subject) } catch {
            throw configuration.error(.hardware, key: "notify.ca_file", error.context)
        }
        if !notifier.targets.isEmpty {
            let names = notifier.targets.map { "\($0.kind.rawValue) \(HTTPRequest.loggableOrigin($0.url))" }
            Log.info("notify", "on every ring: \(names.joined(separator: ", "))")
        }
        return notifier
    }

    /// Control-socket commands for Web Push; `push-subscribe` and `push-unsubscribe` reply once the
    /// subscriptions file is written (off the loop), or say it could not be saved.
    ///
    /// - `{"cmd":"push-key"}` → `{"ok":true,"key":"<VAPID public key, base64url>"}`
    /// - `{"cmd":"push-subscribe","name":"…","subscription":{"endpoint","keys":{"p256dh","auth"}}}` → `{"ok":true,"id"}`
    /// - `{"cmd":"push-subscriptions"}` → `{"ok":true,"subscriptions":[{"id","name","origin","addedAt"}]}`
    /// - `{"cmd":"push-unsubscribe","id":"…"}` → `{"ok":true}`
    func notifyControl(_ command: ControlRequest.Command, _ request: JSONValue, notifier: (any RingNotifier)?,
                       reply: @escaping ControlServer.Reply) {
        guard let notifier, let store = notifier.pushSubscriptions else {
            return reply(["ok": false, "error": "Web Push needs a state directory (paths.state)"])
        }
        func saved(_ answer: JSONValue) -> StateFileWriter.Done {
            { failure in reply(failure.map { ["ok": false, "error": .string("could not be saved: \($0)")] } ?? answer) }
        }
        do {
            switch command {
            case .pushKey:
                reply(["ok": true, "key": .string(try notifier.pushKey().publicKeyText)])
            case .pushSubscribe:
                let subscription = request["subscription"]
                guard let endpoint = subscription?["endpoint"]?.stringValue,
                      let p256dh = subscription?["keys"]?["p256dh"]?.stringValue,
                      let auth = subscription?["keys"]?["auth"]?.stringValue else {
                    return reply(["ok": false, "error": "push-subscribe needs subscription: {endpoint, keys: {p256dh, auth}}"])
                }
                _ = try notifier.pushKey()
                let id = Base64URL.encode((0..<9).map { _ in UInt8.random(in: 0...255) })
                let added = try PushSubscription(id: id, name: request["name"]?.stringValue ?? "browser", endpoint: endpoint,
                                                 p256dh: p256dh, auth: auth, addedAt: wallClockMillis())
                store.add(added, done: saved(["ok": true, "id": .string(id)]))
                Log.info("notify", "webpush subscription \(id) added (\(HTTPRequest.loggableOrigin(endpoint)))")
            case .pushSubscriptions:
                reply(["ok": true, "subscriptions": .array(store.subscriptions.map {
                    ["id": .string($0.id), "name": .string($0.name), "origin": .string(HTTPRequest.loggableOrigin($0.endpoint)),
                     "addedAt": .number(Double($0.addedAt))]
                })])
            case .pushUnsubscribe:
                guard let id = request["id"]?.stringValue else { return reply(["ok": false, "error": "push-unsubscribe needs id"]) }
                guard store.remove(id: id, done: saved(["ok": true])) else {
                    return reply(["ok": false, "error": .string("no subscription \(id)")])
                }
            default:
                reply(["ok": false, "error": "unknown push command; try push-key, push-subscribe, push-subscriptions, push-unsubscribe"])
            }
        } catch {
            reply(["ok": false, "error": .string(error.context)])
        }
    }
}
