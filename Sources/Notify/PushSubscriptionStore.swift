import FoundationEssentials
import DoorCore
import MainLoop

/// A browser's Web Push subscription (`PushSubscription.toJSON()` in the page): where to send, and the keys
/// to encrypt for it.
public struct PushSubscription: Sendable, Equatable, Codable {
    /// Ours, to list and remove it by.
    public var id: String
    /// What the person called the browser ("Anna's phone").
    public var name: String
    /// The push service's URL for this browser; a capability, so logged by origin only.
    public var endpoint: String
    /// base64url P-256 point and 16-byte secret.
    public var p256dh: String
    public var auth: String
    public var addedAt: Int64

    /// Checks a page-supplied subscription: an https endpoint and keys of the right sizes.
    public init(id: String, name: String, endpoint: String, p256dh: String, auth: String, addedAt: Int64) throws(NotifyError) {
        guard endpoint.hasPrefix("https://"), !endpoint.contains(" "), !endpoint.contains("#"), endpoint.utf8.count <= 2048 else {
            throw NotifyError(.setup, "the endpoint must be an https:// URL")
        }
        guard Base64URL.decode(p256dh)?.count == 65 else { throw NotifyError(.setup, "keys.p256dh must be 65 bytes, base64url") }
        guard Base64URL.decode(auth)?.count == 16 else { throw NotifyError(.setup, "keys.auth must be 16 bytes, base64url") }
        guard name.count <= 60 else { throw NotifyError(.setup, "the name is longer than 60 characters") }
        self.id = id
        self.name = name
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
        self.addedAt = addedAt
    }
}

/// The subscriptions, kept in `push-subscriptions.json` in the state directory (mode 0600, written
/// atomically, so a power cut leaves the old list or the new one). The list changes in memory at once; the
/// file is written off the loop (`StateFileWriter`) and `done` says, on the loop, whether it was.
@GLibActor
public final class PushSubscriptionStore {
    public let path: String
    public private(set) var subscriptions: [PushSubscription]
    /// Writes the file on its own queue, in order, the newest list winning.
    public let writer = StateFileWriter { bytes, path in
        do { try AtomicFile.write(bytes, to: path, mode: 0o600) } catch {
            return "cannot save push subscriptions: \(error)"
        }
        return nil
    }

    public init(stateDirectory: String) {
        path = stateDirectory + "/push-subscriptions.json"
        if let bytes = AtomicFile.read(path), let list = try? JSONDecoder().decode([PushSubscription].self, from: Data(bytes)) {
            subscriptions = list
        } else {
            subscriptions = []
        }
    }

    /// Adds `subscription`, replacing one with the same endpoint (a browser that subscribed again); `done` once
    /// the file is written. If it could not be, the list in memory goes back to what the file still holds.
    public func add(_ subscription: PushSubscription, done: @escaping StateFileWriter.Done = { _ in }) {
        var list = subscriptions.filter { $0.endpoint != subscription.endpoint }
        list.append(subscription)
        save(list, done: done)
    }

    /// Removes the subscription with `id`; false when there is none. `done` once the file is written; if it
    /// could not be, the subscription is back in the list.
    @discardableResult
    public func remove(id: String, done: @escaping StateFileWriter.Done = { _ in }) -> Bool {
        guard subscriptions.contains(where: { $0.id == id }) else { return false }
        save(subscriptions.filter { $0.id != id }, done: done)
        return true
    }

    private func save(_ list: [PushSubscription], done: @escaping StateFileWriter.Done) {
        let before = subscriptions
        subscriptions = list
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // PushSubscription is plain strings and a number: encoding cannot fail.
        let bytes = (try? encoder.encode(list)).map(Array.init) ?? Array("[]".utf8)
        writer.write(bytes, to: path) { [weak self] failure in
            // Unless something newer was asked for since, the list is what the file still holds.
            if failure != nil, let self, subscriptions == list { subscriptions = before }
            done(failure)
        }
    }
}
