import MainLoop
import Media
import Signaling

/// The adapters `Device` builds at start that a test replaces: the signaling registrations and the media
/// sessions. `real` is what the executable and every e2e test use; `DoorTests` pass recording fakes
/// (docs/architecture.md#seams).
struct DeviceSeams {
    /// One registration on the signaling server (a room's two IDs, the home ID), over the door's web host.
    var signaling: @GLibActor (PeerJSClient.Options, WebSocketHost) -> any SignalingChannel
    /// The media engine for `media` settings sized to the screen.
    var media: @GLibActor (MediaSettings) throws -> any MediaSessions

    static let real = DeviceSeams(
        signaling: { options, host in PeerJSClient(host: host, options: options) },
        media: { settings in try MediaEngine(settings: settings) })
}
