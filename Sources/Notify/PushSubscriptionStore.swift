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
/// atomically, so a power cut leaves the old list or the new one).
@GLibActor
public final class PushSubscriptionStore {
    public let path: String
    public private(set) var subscriptions: [PushSubscription]

    public init(stateDirectory: String) {
        path = stateDirectory + "/push-subscriptions.json"
        if let bytes = AtomicFile.read(path), let list = try? JSONDecoder().decode([PushSubscription].self, from: Data(bytes)) {
            subscriptions = list
        } else {
            subscriptions = []
        }
    }

    /// Adds `subscription`, replacing one with the same endpoint (a browser that subscribed again).
    public func add(_ subscription: PushSubscription) throws(NotifyError) {
        var list = subscriptions.filter { $0.endpoint != subscription.endpoint }
        list.append(subscription)
        try save(list)
    }

    /// Removes the subscription with `id`; false when there is none.
    @discardableResult
    public func remove(id: String) throws(NotifyError) -> Bool {
        guard subscriptions.contains(where: { $0.id == id }) else { return false }
        try save(subscriptions.filter { $0.id != id })
        return true
    }

    private func save(_ list: [PushSubscription]) throws(NotifyError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            try AtomicFile.write(Array(try encoder.encode(list)), to: path, mode: 0o600)
        } catch {
            throw NotifyError(.setup, "cannot save push subscriptions: \(error)")
        }
        subscriptions = list
    }
}
