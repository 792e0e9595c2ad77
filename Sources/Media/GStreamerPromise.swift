import CGStreamer
import CIntercomShim
import DoorCore
import MainLoop

/// A copied session description; safe to move to the GLib thread (nobody else holds it).
struct DescriptionBox: @unchecked Sendable {
    let value: UnsafeMutablePointer<GstWebRTCSessionDescription>
}

/// `promise-change` callbacks run on webrtcbin's thread; `run` copies what it needs and hops.
final class PromiseHandler: @unchecked Sendable {
    // Immutable after init.
    let run: @Sendable (PromiseOutcome) -> Void
    init(run: @escaping @Sendable (PromiseOutcome) -> Void) { self.run = run }
}

/// How a promise ended. A successful `set-*-description` replies with no structure at all.
enum PromiseOutcome {
    case replied(UnsafePointer<GstStructure>?)
    case interrupted
}

/// A promise whose reply goes to `body` with `link` (a call's or a data connection's callback context).
func makePromise<Link: Sendable>(_ link: Link, _ body: @escaping @Sendable (Link, PromiseOutcome) -> Void)
    -> UnsafeMutablePointer<GstPromise> {
    let handler = Unmanaged.passRetained(PromiseHandler { body(link, $0) }).toOpaque()
    return gst_promise_new_with_change_func({ promise, data in
        guard let promise, let data else { return }
        let handler = Unmanaged<PromiseHandler>.fromOpaque(data).takeUnretainedValue()
        guard gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED else { return handler.run(.interrupted) }
        handler.run(.replied(gst_promise_get_reply(promise)))
    }, handler, { data in if let data { Unmanaged<PromiseHandler>.fromOpaque(data).release() } })
}

/// webrtcbin reports a failed operation as an "error" GError field in the reply.
func promiseError(_ outcome: PromiseOutcome) -> String? {
    guard case .replied(let reply) = outcome else { return "interrupted" }
    guard let reply else { return nil }
    guard gst_structure_has_field(reply, "error") != 0, let value = gst_structure_get_value(reply, "error"),
          let boxed = g_value_get_boxed(value) else { return nil }
    let error = boxed.assumingMemoryBound(to: GError.self)
    return error.pointee.message.map { String(cString: $0) } ?? "error"
}

/// Asks webrtcbin for an offer (or an answer); `deliver` gets the copied description, or the error, on the GLib
/// loop. One place for what both session kinds do, in both roles.
func createDescription<Link: Sendable>(
    _ webrtc: UnsafeMutablePointer<GstElement>, offer: Bool, _ link: Link,
    deliver: @escaping @Sendable @GLibActor (Link, UnsafeMutablePointer<GstWebRTCSessionDescription>?, String?) -> Void
) {
    let field = offer ? "offer" : "answer"
    let promise = makePromise(link) { link, reply in
        let failure = promiseError(reply)
        let description = failure == nil ? copyDescription(reply, field: field) : nil
        GLibLoop.shared.post { deliver(link, description?.value, failure) }
    }
    if offer { ic_webrtc_create_offer(webrtc, promise) } else { ic_webrtc_create_answer(webrtc, promise) }
    gst_promise_unref(promise)
}

func copyDescription(_ outcome: PromiseOutcome, field: String) -> DescriptionBox? {
    guard case .replied(let reply?) = outcome, let value = gst_structure_get_value(reply, field), let boxed = g_value_get_boxed(value),
          let copy = gst_webrtc_session_description_copy(boxed.assumingMemoryBound(to: GstWebRTCSessionDescription.self))
    else { return nil }
    return DescriptionBox(value: copy)
}
