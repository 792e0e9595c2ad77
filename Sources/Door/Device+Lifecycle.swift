import Admission
import Buttons
import CGLib
import Control
import Display
import Glibc
import DoorCore
import MainLoop
import Media
import Notify
import Signaling

/// SIGINT/SIGTERM and the stop of the device's parts in reverse start order (docs/architecture.md#lifecycle).
extension Device {
    func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM] {
            let box = Unmanaged.passRetained(ShutdownBox(device: self)).toOpaque()
            running.signalSources.append(g_unix_signal_add_full(G_PRIORITY_DEFAULT, signalNumber, deviceShutdownSignal,
                                                                box, releaseShutdownBox))
        }
    }

    func shutdown() {
        guard lifecycle.state == .running else { return }
        Log.info("intercom", "shutting down")
        lifecycle.onStopping = { Log.info("intercom", "stopping \($0)") }
        lifecycle.stop { [onExit = running.onExit] in
            Log.info("intercom", "stopped")
            onExit()
        }
    }

    /// The first stop: no timer or press starts anything new; every call hangs up the way a DECLINE does
    /// (the peer hears it in-band and over signaling) and its pipeline is stopped off the loop. Over once
    /// the calls are gone and their pipelines stopped, or after `endCallsLimitMillis` in any case.
    func endCalls(then done: @escaping @GLibActor () -> Void) {
        ticker = nil
        timers.values.forEach { $0.cancel() }
        timers = [:]
        for (call, session) in calls.sessions { sayHangUp(call, session: session) }
        closeChats(peer: nil)
        media.coolDown()  // an open room's warm pipeline: the camera goes off with the calls
        let deadline = monotonicMillis() + Self.endCallsLimitMillis
        func over() -> Bool { calls.sessions.isEmpty && !calls.sayingHangUps && PipelineReaper.shared.inFlight == 0 }
        guard !over() else { return done() }
        shutdownWait = GLibTimer(milliseconds: 20, repeating: true) { [weak self] in
            guard let self else { return done() }
            guard over() || monotonicMillis() >= deadline else { return }
            if !over() {
                Log.warning("intercom", "\(calls.sessions.count) call(s) still ending after \(Self.endCallsLimitMillis) ms; stopping anyway")
            }
            shutdownWait = nil
            done()
        }
    }

    /// Within the 2 s systemd and a person at the door expect; a hang-up normally takes a few hundred ms.
    static let endCallsLimitMillis: Int64 = 1_200

    /// The pairings and push subscriptions still being written (off the loop) are on disk before the door
    /// stops, within `stateFilesLimitMillis`.
    func finishStateFiles(then done: @escaping @GLibActor () -> Void) {
        let writers = [paired?.writer, notifier?.pushSubscriptions?.writer].compactMap { $0 }
        func idle() -> Bool { writers.allSatisfy(\.isIdle) }
        guard !idle() else { return done() }
        let deadline = monotonicMillis() + Self.stateFilesLimitMillis
        shutdownWait = GLibTimer(milliseconds: 10, repeating: true) { [weak self] in
            guard let self else { return done() }
            guard idle() || monotonicMillis() >= deadline else { return }
            if !idle() { Log.warning("intercom", "a state file is still being written; stopping anyway") }
            shutdownWait = nil
            done()
        }
    }

    static let stateFilesLimitMillis: Int64 = 500

    /// The door's registrations close (their last frames, the hang-up LEAVEs, are written first), then a
    /// short pause lets the loop write them before the web server goes.
    func stopSignaling(then done: @escaping @GLibActor () -> Void) {
        room?.client?.stop()
        room?.knockClient?.stop()
        retiring.forEach { $0.stop() }
        retiring = []
        home?.stop()
        shutdownWait = GLibTimer(milliseconds: 100) { [weak self] in
            self?.shutdownWait = nil
            done()
        }
    }
}

final class ShutdownBox: @unchecked Sendable {
    // Read only on the GLib thread, where GLib dispatches the signal source.
    weak var device: Device?
    init(device: Device) { self.device = device }
}

/// A free function, not a closure in the actor-isolated method that installs it: GLib may call it from
/// whatever thread removes the source (docs/architecture.md#one-process-one-loop).
private func releaseShutdownBox(_ data: gpointer?) {
    if let data { Unmanaged<ShutdownBox>.fromOpaque(data).release() }
}

private func deviceShutdownSignal(_ data: gpointer?) -> gboolean {
    guard let data else { return 0 }
    let box = Unmanaged<ShutdownBox>.fromOpaque(data).takeUnretainedValue()
    GLibActor.assumeIsolated { box.device?.shutdown() }
    return 0
}

extension CallStateMachine.Event {
    /// A press, an offer, a dial or a pairing: what would open a room or start a call.
    var startsSomething: Bool {
        switch self {
        case .press, .offer, .pairedOffer, .dial, .dialAnswered, .pairRequested, .pairedBrowser: true
        case .callConnected, .callEnded, .timer, .tick, .hangUpRequested, .roomCodeTaken: false
        }
    }
}

