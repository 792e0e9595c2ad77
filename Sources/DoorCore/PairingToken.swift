/// The one-use secret of a pairing window: 128 bits from the system CSPRNG, shown only inside the pairing QR
/// (the fragment of the pairing link, `#p=…`, which browsers never send to a server). It keys the MACs that
/// bind the pairing to its data connection (`PairingProof`); printing it shows `p=…`.
public struct PairingToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public static let byteCount = 16

    public let bytes: [UInt8]

    /// nil unless exactly `byteCount` bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    @Sendable public static func random() -> PairingToken {
        PairingToken(bytes: RandomBytes.make(byteCount))!
    }

    /// Unpadded base64url, 22 characters.
    public var base64url: String { Base64URL.encode(bytes) }

    public var description: String { "p=…" }
    public var debugDescription: String { "PairingToken(p=…)" }
}

/// The pairing link the pairing QR encodes: `<web base>/?pair=<home peer ID>#p=<token>`. Like a `RoomLink`,
/// it prints redacted (`…#p=…`); only `url` holds the token, and only the QR gets it.
public struct PairingLink: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let homePeerID: String
    public let token: PairingToken
    public let withoutToken: String

    public init(webBase: String, homePeerID: String, token: PairingToken) {
        self.homePeerID = homePeerID
        self.token = token
        withoutToken = (webBase.hasSuffix("/") ? webBase : webBase + "/") + "?pair=" + homePeerID
    }

    public var url: String { withoutToken + "#p=" + token.base64url }
    public var redacted: String { withoutToken + "#p=…" }
    public var description: String { redacted }
    public var debugDescription: String { "PairingLink(\(redacted))" }
}

/// An open pairing window: its token and when it closes.
public struct PairingWindow: Sendable, Equatable {
    public var token: PairingToken
    public var expiresAt: Int64

    public init(token: PairingToken, expiresAt: Int64) { self.token = token; self.expiresAt = expiresAt }

    public func isOpen(at now: Int64) -> Bool { now < expiresAt }
}

/// Random bytes from the system CSPRNG (getrandom(2) on Linux).
public enum RandomBytes {
    public static func make(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
