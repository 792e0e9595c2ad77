@testable import Door
import DoorCore
import FoundationEssentials
import MainLoop
import Media

/// A data connection standing in for a `DataSession`: it records what its `DataLink` sends and asks, and the
/// test fires what webrtcbin would report (`fire`: the answer, open, a message). Like the real one it reports
/// `.closed` once, from the loop, after the call that closes it returned.
@GLibActor
final class FakeData: DataMedia {
    let connection: CallStateMachine.CallID
    /// The peer's offer for an answering connection; nil for one the door offers.
    let offerSDP: String?
    /// The channel's label for one the door offers.
    let label: String?
    var onEvent: (@GLibActor (DataSession.Event) -> Void)?
    private(set) var isOpen = false
    private(set) var isClosed = false
    private(set) var started = false
    private(set) var remoteAnswer: String?
    private(set) var remoteCandidates: [String] = []
    private(set) var closes = 0
    /// Every message sent, as the JSON it carries (text or binary JSON; nil for anything else), oldest first.
    private(set) var sent: [JSONValue?] = []
    private var closing: GLibTimer?

    var peer: String { connection.peer }

    init(connection: CallStateMachine.CallID, offerSDP: String?, label: String?) {
        self.connection = connection
        self.offerSDP = offerSDP
        self.label = label
    }

    func start() throws(MediaError) { started = true }
    func setRemoteAnswer(_ sdp: String) throws(MediaError) { remoteAnswer = sdp }
    func addRemoteCandidate(mline: Int, candidate: String) { remoteCandidates.append(candidate) }

    func send(text: String) -> Bool {
        guard isOpen, !isClosed else { return false }
        sent.append(try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))
        return true
    }

    func send(bytes: [UInt8]) -> Bool {
        guard isOpen, !isClosed else { return false }
        sent.append(try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)))
        return true
    }

    func close() {
        closes += 1
        end(nil)
    }

    /// What webrtcbin would report; `.open` opens the channel first, as the real session does.
    func fire(_ event: DataSession.Event) {
        if case .open = event { isOpen = true }
        onEvent?(event)
    }

    /// A JSON message from the peer, as PeerJS 1.5 sends it on a `json` connection (binary UTF-8).
    func receive(_ value: JSONValue) { fire(.message(.bytes(Array(value.jsonText().utf8)))) }

    /// The messages sent whose `t` is `kind`.
    func sent(_ kind: String) -> [JSONValue] { sent.compactMap { $0 }.filter { $0["t"]?.stringValue == kind } }

    /// The connection is over: `.closed` follows from the loop, once.
    func end(_ detail: String?) {
        guard !isClosed, closing == nil else { return }
        closing = GLibTimer(milliseconds: 0) { [weak self] in
            guard let self, !isClosed else { return }
            isClosed = true
            isOpen = false
            let report = onEvent
            onEvent = nil
            report?(.closed(detail: detail))
        }
    }
}
