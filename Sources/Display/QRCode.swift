import CQRencode
#if canImport(Glibc)
import Glibc
#endif

/// A QR code symbol from libqrencode (`QRcode_encodeString`, error correction M, 8-bit mode).
///
/// The modules are copied into Swift and the C `QRcode` is freed at once, so the value is plain data that any
/// thread or renderer can use.
public struct QRCode: Sendable, Equatable {
    /// Modules per side, without the quiet zone.
    public let size: Int
    private let modules: [Bool]

    /// Encodes `text` (UTF-8) in the smallest version that fits at level M.
    public init(_ text: String) throws {
        errno = 0
        // Case-sensitive 8-bit: a URL must come back byte for byte.
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else {
            throw DisplayError.qrEncodingFailed(length: text.utf8.count, errno: errno == 0 ? EINVAL : errno)
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        // Bit 0 of each byte is the module colour; the other bits are libqrencode's bookkeeping.
        let bytes = UnsafeBufferPointer(start: code.pointee.data, count: width * width)
        size = width
        modules = bytes.map { $0 & 1 != 0 }
    }

    /// True for a dark module. Outside the symbol (the quiet zone) everything is light.
    public func isDark(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }
}
