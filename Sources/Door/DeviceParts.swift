import Buttons
import Control
import Display
import DoorCore
import MainLoop
import Media
import Signaling

/// The door's web server, the PeerServer on it (nil with an external signaling server) and where the door's own
/// clients register.
struct SignalingEndpoint {
    let host: WebSocketHost
    let peerServer: PeerServer?
    let url: WebSocketURL
    /// Tokens of the door's own clients on its built-in server start with this (random per start): the
    /// server does not count them against per-address or concurrent-ID limits meant for strangers.
    let ownTokenPrefix: String
    /// Makes one registration (`DeviceSeams.signaling`: a real PeerJS client, or a test's recording fake).
    let connect: @GLibActor (PeerJSClient.Options, WebSocketHost) -> any SignalingChannel
}

/// The screen (nil when none could be opened) and the snapshot writer that stands in for or beside it.
struct DisplayOutput {
    let display: Display?
    let snapshots: SnapshotSink?
}

/// What commands the door: its buttons (simulated, terminal keys, GPIO) and the local control socket.
@GLibActor
final class DoorInputs {
    let simulated = SimulatedButtons()
    let terminal = TerminalButtons()
    var gpio: GPIOButtons?
    var control: ControlServer?

    func stopButtons() {
        simulated.stop()
        terminal.stop()
        gpio?.stop()
    }
}

/// The open room, the registrations of closed rooms kept until their hang-up LEAVEs are out, and what peers
/// may send through signaling.
struct RoomState {
    typealias CallID = CallStateMachine.CallID

    /// The open room (its link, gate and two registrations); nil when no room is open.
    var open: OpenRoom?
    /// Closed rooms' registrations kept until those LEAVEs are out.
    var retiring: [any SignalingChannel] = []
    /// What peers may send through signaling (rate, SDP size, candidates, concurrent connections).
    /// OFFERs are limited per peer by the RoomGate, which counts what it turns away; the rest here.
    var limits = SignalingLimits(settings: { var s = SignalingLimits.Settings(); s.rateLimitsOffers = false; return s }())
    var limitDrops = (count: 0, lastLogged: Int64(0))
    /// Routes what reaches the room's two IDs by (peer, connectionId), and keeps the candidates of calls and
    /// data offers that wait (Device+Routing.swift).
    var router = PeerJSRouter<DoorRoute>()
}

/// The callers' data connections (chat) by (peer, connectionId), and data OFFERs held while their call waits.
struct ChatState {
    typealias CallID = CallStateMachine.CallID

    var chats: [CallID: DataLink] = [:]
    var heldData: [CallID: HeldDataOffer] = [:]
    var heldDataSweep: GLibTimer?
}

/// What the door tells about its calls: `ctl state`'s counters and last call, the caller's name on the screen.
struct CallReport {
    /// Media objects ever made (the security tests count them: only accepted calls get one).
    var callSessionsCreated = 0
    /// Data OFFERs from anyone but the door's caller (dropped without an answer).
    var dataOffersRefused = 0
    var lastCall: JSONValue = .null
    /// The last caller's peer ID and what the screen calls them.
    var latestCaller: (peer: String, label: String)?
    /// Whether the device's camera is switched off for the running call (a valve; the peer sees no picture).
    var cameraOff = false
    /// When the event being handled arrived, to report how long its screen took to reach the sink.
    var eventStartedMicros: Int64 = 0
}

/// What the door keeps in its state directory: the paired browsers (Device+Pairing.swift) and the visit log
/// with its clips (VisitKeeper.swift). Each is nil without a state directory (and the visits when they are off).
struct StateKept {
    var paired: PairedBrowsers?
    var visits: VisitKeeper?
}

/// The loop sources the device owns, what runs in start order, and whom to tell once it has stopped.
struct Running {
    /// What runs, in start order; SIGTERM stops it in reverse (docs/architecture.md#lifecycle).
    let lifecycle: Lifecycle
    var ticker: GLibTimer?
    /// The state machine's timers, one per kind (`startTimer` / `cancelTimer`).
    var timers: [CallStateMachine.TimerKind: GLibTimer] = [:]
    var shutdownWait: GLibTimer?
    var signalSources: [UInt32] = []
    let onExit: @Sendable () -> Void
}

/// The names the device's code has always used for what now lives in its parts.
extension Device {
    var host: WebSocketHost { endpoint.host }
    var peerServer: PeerServer? { endpoint.peerServer }
    var signalingURL: WebSocketURL { endpoint.url }
    var ownTokenPrefix: String { endpoint.ownTokenPrefix }
    /// Signaling is the built-in server over loopback (whose TLS certificate, if any, names another host).
    var signalingIsOwnServer: Bool { options.signaling == nil }

    /// A token for one of the door's own clients.
    func ownClientToken() -> String {
        signalingIsOwnServer ? ownTokenPrefix + PeerJSClient.randomToken() : PeerJSClient.randomToken()
    }

    var display: Display? { output.display }
    var snapshotSink: SnapshotSink? { output.snapshots }
    var control: ControlServer? {
        get { inputs.control }
        set { inputs.control = newValue }
    }

    var room: OpenRoom? {
        get { rooms.open }
        set { rooms.open = newValue }
    }
    var retiring: [any SignalingChannel] {
        get { rooms.retiring }
        set { rooms.retiring = newValue }
    }
    var limits: SignalingLimits {
        get { rooms.limits }
        set { rooms.limits = newValue }
    }

    var chats: [CallID: DataLink] {
        get { chatState.chats }
        set { chatState.chats = newValue }
    }
    var heldData: [CallID: HeldDataOffer] {
        get { chatState.heldData }
        set { chatState.heldData = newValue }
    }
    var heldDataSweep: GLibTimer? {
        get { chatState.heldDataSweep }
        set { chatState.heldDataSweep = newValue }
    }

    var callSessionsCreated: Int {
        get { report.callSessionsCreated }
        set { report.callSessionsCreated = newValue }
    }
    var dataOffersRefused: Int {
        get { report.dataOffersRefused }
        set { report.dataOffersRefused = newValue }
    }
    var lastCall: JSONValue {
        get { report.lastCall }
        set { report.lastCall = newValue }
    }
    var latestCaller: (peer: String, label: String)? {
        get { report.latestCaller }
        set { report.latestCaller = newValue }
    }
    var cameraOff: Bool {
        get { report.cameraOff }
        set { report.cameraOff = newValue }
    }

    var lifecycle: Lifecycle { running.lifecycle }
    var paired: PairedBrowsers? {
        get { kept.paired }
        set { kept.paired = newValue }
    }
    var visits: VisitKeeper? {
        get { kept.visits }
        set { kept.visits = newValue }
    }

    var ticker: GLibTimer? {
        get { running.ticker }
        set { running.ticker = newValue }
    }
    var timers: [CallStateMachine.TimerKind: GLibTimer] {
        get { running.timers }
        set { running.timers = newValue }
    }
    var shutdownWait: GLibTimer? {
        get { running.shutdownWait }
        set { running.shutdownWait = newValue }
    }
}
