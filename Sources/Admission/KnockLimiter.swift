import DoorCore

/// How many knocks (offers without a proof) the door takes: a few per sender per minute, and a cap for everyone
/// together. Per sender first, so one caller knocking over and over spends only its own share and leaves the
/// rest for everyone else; a knock refused for either reason is answered (`LEAVE` with reason `limited`), so
/// the caller's page can say why instead of ringing on unheard.
///
/// Pure: time is passed in.
public struct KnockLimiter: Sendable {
    public struct Limits: Sendable, Equatable {
        public var perSender = 3
        public var total = 10
        public var windowMillis: Int64 = 60_000
        public init() {}
    }

    public enum Verdict: Sendable, Equatable {
        case allow
        /// This sender knocked `perSender` times in the window.
        case senderLimited
        /// Everyone together knocked `total` times in the window.
        case everyoneLimited
    }

    public let limits: Limits
    private var bySender: RateLimiter<String>
    private var everyone: RateLimiter<Int>

    public init(limits: Limits = Limits()) {
        self.limits = limits
        bySender = RateLimiter(limit: limits.perSender, windowMillis: limits.windowMillis)
        everyone = RateLimiter(limit: limits.total, windowMillis: limits.windowMillis)
    }

    public mutating func admit(sender: String, now: Int64) -> Verdict {
        guard bySender.allow(sender, now: now) else { return .senderLimited }
        guard everyone.allow(0, now: now) else { return .everyoneLimited }
        return .allow
    }
}
