import DoorCore
import MainLoop
import Media
import Signaling

/// Pictures a caller sends the door during a call (docs/sharing.md#pictures-to-the-door): the receiving side of
/// the page's file sharing (`js/file-share.js`) on one chat connection, for pictures only. The door answers the
/// page's `{t:'features', files:true}` with its own `{t:'features', files:true, accepts, maxBytes}`; an offer that is not a JPEG or PNG, or is too large, is
/// refused with a reason the page words; an accepted one is collected chunk by chunk (in order, within the
/// offered size), its header checked (`ImageHeader`: a small file cannot claim a huge picture), decoded
/// (`ImageDecoder`) and handed to `show` for the screen. One at a time; at most `maxTransfers` per connection.
@GLibActor
final class PictureDrop {
    static let maxBytes = 8_000_000
    static let types = [ImageHeader.Kind.jpeg.rawValue, ImageHeader.Kind.png.rawValue]
    /// The largest picture decoded: 8192 pixels a side, 40 megapixels (a phone's photo is 12–50 megapixels
    /// for the big ones; 40 M BGRx pixels are what a Pi can afford to hold for a moment).
    static let maxSide = 8192
    static let maxPixels = 40_000_000
    static let maxTransfers = 100
    static let maxIDCharacters = 64

    private let send: @GLibActor (JSONValue) -> Bool
    private let show: @GLibActor (VideoPicture) -> Void
    private let screen: (width: Int, height: Int)
    private var incoming: (id: String, size: Int, bytes: [UInt8])?
    private var decoder: ImageDecoder?
    private var transfers = 0
    private var announced = false

    init(screen: (width: Int, height: Int), send: @escaping @GLibActor (JSONValue) -> Bool,
         show: @escaping @GLibActor (VideoPicture) -> Void) {
        self.screen = screen
        self.send = send
        self.show = show
    }

    /// What the door answers to the page's announcement.
    static var features: JSONValue {
        ["t": "features", "files": true, "accepts": .array(types.map(JSONValue.string)), "maxBytes": .number(Double(maxBytes))]
    }

    /// A message of the connection; true when it was a file message (taken here, not a chat).
    func receive(_ value: DataValue) -> Bool {
        guard let type = value["t"]?.stringValue else { return false }
        if type == "features" {
            // The page announced files: it speaks this protocol, so it hears what the door takes (once). A peer
            // that never says so (a stock PeerJS app) is sent nothing it would not understand.
            if !announced {
                announced = true
                _ = send(Self.features)
            }
            return true
        }
        guard type.hasPrefix("file-") else { return false }
        guard let id = value["id"]?.stringValue, !id.isEmpty, id.count <= Self.maxIDCharacters else { return true }
        switch type {
        case "file-offer": offered(id, value)
        case "file-chunk": chunk(id, value)
        case "file-end": ended(id)
        case "file-cancel": if incoming?.id == id { incoming = nil }
        default: break
        }
        return true
    }

    private func offered(_ id: String, _ value: DataValue) {
        transfers += 1
        let size = value["size"]?.numberValue.flatMap { Int(exactly: $0) } ?? -1
        let kind = value["type"]?.stringValue ?? ""
        if transfers > Self.maxTransfers || incoming != nil || decoder != nil {
            return refuse(id, "busy")
        }
        guard Self.types.contains(kind) else { return refuse(id, "not-a-picture") }
        guard (1...Self.maxBytes).contains(size) else {
            _ = send(["t": "file-refuse", "id": .string(id), "reason": "too-large", "limit": .number(Double(Self.maxBytes))])
            return Log.info("intercom", "refused a picture of \(size) bytes from the caller (limit \(Self.maxBytes))")
        }
        incoming = (id, size, [])
        incoming?.bytes.reserveCapacity(size)
        _ = send(["t": "file-accept", "id": .string(id)])
    }

    private func refuse(_ id: String, _ reason: String) {
        _ = send(["t": "file-refuse", "id": .string(id), "reason": .string(reason)])
        Log.info("intercom", "refused a file from the caller: \(reason)")
    }

    private func chunk(_ id: String, _ value: DataValue) {
        guard var transfer = incoming, transfer.id == id else { return }
        guard case .binary(let data)? = value["data"], value["offset"]?.numberValue == Double(transfer.bytes.count),
              transfer.bytes.count + data.count <= transfer.size else {
            incoming = nil
            _ = send(["t": "file-cancel", "id": .string(id)])
            return Log.info("intercom", "a picture from the caller broke off: a chunk out of order or over its size")
        }
        incoming = nil  // no second copy of the bytes while appending
        transfer.bytes += data
        incoming = transfer
    }

    private func ended(_ id: String) {
        guard let transfer = incoming, transfer.id == id else { return }
        incoming = nil
        guard transfer.bytes.count == transfer.size else {
            _ = send(["t": "file-cancel", "id": .string(id)])
            return Log.info("intercom", "a picture from the caller ended short (\(transfer.bytes.count) of \(transfer.size) bytes)")
        }
        _ = send(["t": "file-done", "id": .string(id)])
        guard let header = ImageHeader(transfer.bytes) else {
            return Log.info("intercom", "a file from the caller said it was a picture but is not a JPEG or PNG; not shown")
        }
        guard header.width <= Self.maxSide, header.height <= Self.maxSide, header.width * header.height <= Self.maxPixels else {
            return Log.info("intercom", "a \(header.width)x\(header.height) picture from the caller is too large to show")
        }
        decoder = ImageDecoder(transfer.bytes, header: header, width: screen.width, height: screen.height) { [weak self] picture in
            guard let self else { return }
            decoder = nil
            guard let picture else { return }
            Log.info("intercom", "showing a \(header.width)x\(header.height) \(header.kind.rawValue) picture from the caller")
            show(picture)
        }
    }
}
