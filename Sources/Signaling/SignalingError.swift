/// Everything that goes wrong in signaling, with a code and words for the log.
public struct SignalingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case malformedMessage, unknownMessageType, malformedData, tooLarge, rateLimited, invalidURL, connectFailed, listenFailed, closed, idTaken, serverError
    }
    public var code: Code
    public var context: String
    public init(_ code: Code, _ context: String) { self.code = code; self.context = context }
    public var description: String { "\(code.rawValue): \(context)" }
}
