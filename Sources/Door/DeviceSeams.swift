import DoorCore
import MainLoop
import Media
import Signaling

/// The adapters `Device` builds at start that a test replaces: the signaling registrations, the media and
/// data sessions, and the notifier. `real` is what the executable and every e2e test use; `DoorTests` pass recording fakes
/// (docs/architecture.md#seams).
struct DeviceSeams {
    /// One registration on the signaling server (a room's two IDs, the home ID), over the door's web host.
    var signaling: @GLibActor (PeerJSClient.Options, WebSocketHost) -> any SignalingChannel
    /// The media engine for `media` settings sized to the screen (it makes the data links' sessions too).
    var media: @GLibActor (MediaSettings) throws -> any MediaSessions
    /// The notifier for the configuration's `notify` section.
    var notifier: @GLibActor (Configuration) throws -> any RingNotifier = { try Device.makeNotifier($0) }

    static let real = DeviceSeams(
        signaling: { options, host in PeerJSClient(host: host, options: options) },
        media: { settings in try MediaEngine(settings: settings) })
}
