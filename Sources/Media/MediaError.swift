/// Everything that goes wrong in the media path, with a code and words for the log.
public struct MediaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badOffer, noUsableCodec, missingElement, pipelineFailed, negotiationFailed
    }
    public var code: Code
    public var context: String
    public init(_ code: Code, _ context: String) { self.code = code; self.context = context }
    public var description: String { "\(code.rawValue): \(context)" }
}
