import CSoup
import DoorCore
import MainLoop

/// The HTTP client notifications go out through: one `SoupSession` (libsoup 3), driven by the GLib main loop
/// the whole control plane runs on — no thread of its own. HTTPS is verified against the system's CA list
/// (glib-networking) or, when given, a CA file of the user's.
@GLibActor
public final class HTTPSession {
    private let session: UnsafeMutablePointer<SoupSession>

    /// - Parameters:
    ///   - caFile: PEM certificate authorities to trust instead of the system's (`g_tls_file_database_new`).
    ///   - timeoutSeconds: how long one request may take from connect to the last byte.
    public init(caFile: String? = nil, timeoutSeconds: UInt32 = 10) throws(NotifyError) {
        guard let session = soup_session_new() else { throw NotifyError(.setup, "soup_session_new failed") }
        self.session = session
        soup_session_set_timeout(session, timeoutSeconds)
        soup_session_set_user_agent(session, "intercom")
        if let caFile {
            var error: UnsafeMutablePointer<GError>?
            guard let database = g_tls_file_database_new(caFile, &error) else {
                let text = error.map { String(cString: $0.pointee.message) } ?? "unknown error"
                g_clear_error(&error)
                throw NotifyError(.setup, "CA file \(caFile): \(text)")
            }
            soup_session_set_tls_database(session, UnsafeMutableRawPointer(database).assumingMemoryBound(to: GTlsDatabase.self))
            g_object_unref(database)
        }
    }

    isolated deinit {
        soup_session_abort(session)
        g_object_unref(UnsafeMutableRawPointer(session))
    }

    /// Sends `request` with its method (POST, or PUT for an ntfy attachment); `completion` runs on the loop
    /// with the HTTP status (2xx) or why it failed, exactly once — also after `cancel()`, with `.cancelled`.
    @discardableResult
    public func post(_ request: HTTPRequest, completion: @escaping @GLibActor (Result<Int, NotifyError>) -> Void)
        -> HTTPExchange {
        let exchange = HTTPExchange(completion: completion)
        guard let message = soup_message_new(request.method, request.url) else {
            exchange.finish(.failure(NotifyError(.setup, "not a URL libsoup accepts")))
            return exchange
        }
        exchange.message = message
        let headers = soup_message_get_request_headers(message)
        for header in request.headers { soup_message_headers_append(headers, header.name, header.value) }
        let bytes = request.body.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        soup_message_set_request_body_from_bytes(message, request.contentType, bytes)
        g_bytes_unref(bytes)
        let box = Unmanaged.passRetained(exchange).toOpaque()
        soup_session_send_and_read_async(session, message, G_PRIORITY_DEFAULT, exchange.cancellable,
                                         httpExchangeFinished, box)
        return exchange
    }
}

/// One request in flight: its `SoupMessage` and `GCancellable`, owned here and released in deinit.
@GLibActor
public final class HTTPExchange {
    fileprivate var message: OpaquePointer?
    fileprivate let cancellable = g_cancellable_new()
    private var completion: (@GLibActor (Result<Int, NotifyError>) -> Void)?

    fileprivate init(completion: @escaping @GLibActor (Result<Int, NotifyError>) -> Void) {
        self.completion = completion
    }

    isolated deinit {
        if let message { g_object_unref(UnsafeMutableRawPointer(message)) }
        g_object_unref(cancellable)
    }

    /// Withdraws the request; the completion then reports `.cancelled`.
    public func cancel() { g_cancellable_cancel(cancellable) }

    public var isFinished: Bool { completion == nil }

    /// Reads the outcome of `soup_session_send_and_read_async` off `result` and reports it.
    fileprivate func complete(session: UnsafeMutablePointer<SoupSession>, result: OpaquePointer?) {
        var error: UnsafeMutablePointer<GError>?
        if let bytes = soup_session_send_and_read_finish(session, result, &error) { g_bytes_unref(bytes) }
        if let failure = error {
            let cancelled = g_error_matches(failure, g_io_error_quark(), gint(G_IO_ERROR_CANCELLED.rawValue)) != 0
            let text = String(cString: failure.pointee.message)
            g_clear_error(&error)
            return finish(.failure(NotifyError(cancelled ? .cancelled : .transport, text)))
        }
        let status = Int(soup_message_get_status(message).rawValue)
        if (200..<300).contains(status) {
            finish(.success(status))
        } else {
            let reason = soup_message_get_reason_phrase(message).map { String(cString: $0) } ?? ""
            finish(.failure(NotifyError(.status, "HTTP \(status) \(reason)", status: status)))
        }
    }

    fileprivate func finish(_ result: Result<Int, NotifyError>) {
        guard let completion else { return }
        self.completion = nil
        completion(result)
    }
}

/// `GAsyncReadyCallback` of `soup_session_send_and_read_async`: GLib calls it on the loop thread (the thread
/// default context the request was started from), with the exchange we retained as user data.
private func httpExchangeFinished(_ source: UnsafeMutablePointer<GObject>?, _ result: OpaquePointer?, _ data: gpointer?) {
    guard let source, let data else { return }
    let exchange = Unmanaged<HTTPExchange>.fromOpaque(data).takeRetainedValue()
    // Both pointers are only used right here, on this thread, before the callback returns.
    nonisolated(unsafe) let session = UnsafeMutableRawPointer(source).assumingMemoryBound(to: SoupSession.self)
    nonisolated(unsafe) let result = result
    GLibActor.assumeIsolated { exchange.complete(session: session, result: result) }
}
