import FoundationEssentials
import DoorCore

/// The push message for one subscription: the ring as JSON (what the page's service worker shows, and the
/// link it opens), encrypted for that browser, with the VAPID authorization.
public enum WebPushMessage {
    /// The readable payload: `{title, body, url, door, code, time}`, and for paired browsers' service worker
    /// `t: "ring"`, `link` (= url) and `expiresAt` (ms) as docs/pairing.md says.
    public static func payload(for ring: RingNotice) -> [UInt8] {
        var fields: [String: JSONValue] = [
            "title": .string("\(ring.doorName): someone is at the door"),
            "body": .string("Room \(ring.code). Tap to answer."), "url": .string(ring.link),
            "door": .string(ring.doorName), "code": .string(ring.code), "time": .string(ring.timeText),
            "t": "ring", "link": .string(ring.link)]
        if let expiresAt = ring.expiresAtMillis { fields["expiresAt"] = .number(Double(expiresAt)) }
        // A picture does not fit a push message (4 KB at most): the page asks for it over its paired link.
        if let pictureID = ring.pictureID { fields["picture"] = .string(pictureID) }
        return HTTPRequest.encode(.object(fields))
    }

    /// - Parameter ttlSeconds: how long the push service may hold the message for an offline browser: the
    ///   room's lifetime, after which the link is dead anyway.
    public static func request(ring: RingNotice, subscription: PushSubscription, key: VAPIDKey, subject: String,
                               ttlSeconds: Int) throws(NotifyError) -> HTTPRequest {
        guard let receiverKey = Base64URL.decode(subscription.p256dh), let auth = Base64URL.decode(subscription.auth) else {
            throw NotifyError(.setup, "subscription keys are not base64url")
        }
        let body = try WebPushEncryption.encrypt(payload(for: ring), receiverKey: receiverKey, authSecret: auth)
        let expiresAt = ring.timeMillis / 1000 + 12 * 3600
        let authorization = try key.authorization(endpoint: subscription.endpoint, subject: subject, expiresAt: expiresAt)
        return HTTPRequest(url: subscription.endpoint, contentType: "application/octet-stream",
                           headers: [("Content-Encoding", "aes128gcm"), ("TTL", String(ttlSeconds)),
                                     ("Urgency", "high"), ("Authorization", authorization)],
                           body: body)
    }
}
