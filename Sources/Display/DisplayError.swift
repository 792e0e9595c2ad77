/// Everything that can go wrong between a `Screen` and the pixels on a panel or in a PNG.
public enum DisplayError: Error, Equatable, CustomStringConvertible {
    /// `QRcode_encodeString` returned NULL; `errno` says why (ERANGE: too long for any QR version).
    case qrEncodingFailed(length: Int, errno: Int32)
    /// A cairo call left a surface or context in an error status.
    case cairo(status: String, context: String)
    /// The frame's geometry does not describe its bytes.
    case badFrame(String)
    /// The snapshot directory cannot be created or written.
    case snapshotDirectory(path: String, reason: String)
    /// A PNG could not be written or moved into place.
    case snapshotWrite(path: String, reason: String)
    /// No usable KMS/DRM device: the real screen backend cannot start.
    case noDisplay(String)

    /// A stable short name for logs and for tests that must not depend on the wording.
    public var code: String {
        switch self {
        case .qrEncodingFailed: "qr-encoding-failed"
        case .cairo: "cairo"
        case .badFrame: "bad-frame"
        case .snapshotDirectory: "snapshot-directory"
        case .snapshotWrite: "snapshot-write"
        case .noDisplay: "no-display"
        }
    }

    /// What happened, in words, with the path or value involved.
    public var context: String {
        switch self {
        case .qrEncodingFailed(let length, let errno):
            "cannot encode \(length) bytes as a QR code: \(errnoText(errno))"
        case .cairo(let status, let context): "\(context): \(status)"
        case .badFrame(let why): why
        case .snapshotDirectory(let path, let reason): "snapshot directory \(path): \(reason)"
        case .snapshotWrite(let path, let reason): "cannot write \(path): \(reason)"
        case .noDisplay(let why): why
        }
    }

    public var description: String { "display \(code): \(context)" }
}
