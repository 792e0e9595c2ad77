import CWebSockets
import MainLoop

/// What lws keeps pointers to while a context lives — the protocol table and names, the foreign-loop array, the
/// keepalive policies — and the way back to the host. With the GLib event loop, `lws_context_destroy` returns
/// before lws is done: sockets finish closing on later loop turns, and lws calls the protocol callback for them
/// then, after the `WebSocketHost` is gone. So the context retains this object (its user pointer) until lws
/// frees the vhost (`lwsVhostFinalized`), and reaches the host only through a weak reference.
@GLibActor
final class LWSContextOwner {
    weak var host: WebSocketHost?
    /// The two protocols' names, then the TLS ALPN list.
    let protocolNames = [strdup("http-peerjs")!, strdup("peerjs-client")!, strdup("http/1.1")!]
    let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 3)
    let foreignLoops = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
    /// lws keeps a pointer to a client connection's policy for the connection's life.
    var keepalivePolicies: [WebSocketHost.Keepalive: UnsafeMutablePointer<lws_retry_bo_t>] = [:]

    init() {
        protocols.initialize(repeating: lws_protocols(), count: 3)
        for i in 0..<2 {
            protocols[i].name = UnsafePointer(protocolNames[i])
            protocols[i].callback = lwsCallback
            protocols[i].rx_buffer_size = 16 * 1024
        }
        foreignLoops.initialize(to: UnsafeMutableRawPointer(GLibLoop.shared.loop))
    }

    isolated deinit {
        protocols.deallocate()
        foreignLoops.deallocate()
        protocolNames.forEach { free($0) }
        keepalivePolicies.values.forEach { $0.deallocate() }
    }
}

/// The one lws protocol callback; lws calls it on the GLib thread (GLib event-loop mode). Once the host is gone
/// (lws finishing its shutdown), every event gets lws's default handling.
func lwsCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                 _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
    guard let wsi, let context = lws_get_context(wsi), let opaqueOwner = lws_context_user(context) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    let owner = Unmanaged<LWSContextOwner>.fromOpaque(opaqueOwner).takeUnretainedValue()
    let event = LWSEvent(wsi: wsi, reason: reason, user: user, input: input, length: length)
    return GLibActor.assumeIsolated {
        guard let host = owner.host else {
            return lws_callback_http_dummy(event.wsi, event.reason, event.user, event.input, event.length)
        }
        return host.handle(event.wsi, event.reason, event.input, event.length)
    }
}

/// lws frees the context's vhost: the last moment it uses what `LWSContextOwner` holds.
func lwsVhostFinalized(_ vhost: OpaquePointer?, _ arg: UnsafeMutableRawPointer?) {
    guard let arg else { return }
    Unmanaged<LWSContextOwner>.fromOpaque(arg).release()
}

/// The callback's arguments, carried into the actor-isolated handler. Safe: we are already on the GLib thread
/// (lws runs in GLib mode) and the handler uses them before returning.
struct LWSEvent: @unchecked Sendable {
    let wsi: OpaquePointer
    let reason: lws_callback_reasons
    let user: UnsafeMutableRawPointer?
    let input: UnsafeMutableRawPointer?
    let length: Int
}
