/// One decoded video picture in BGRx (4 bytes per pixel, rows `stride` bytes apart), handed from the media
/// path to the screen without either knowing the other.
public struct VideoPicture: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let stride: Int
    public let pixels: [UInt8]

    public init(width: Int, height: Int, stride: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.stride = stride
        self.pixels = pixels
    }

    /// Whether the byte count can hold the picture (a malformed buffer is dropped, not drawn).
    public var isWellFormed: Bool {
        width > 0 && height > 0 && stride >= width * 4 && pixels.count >= stride * height
    }
}
