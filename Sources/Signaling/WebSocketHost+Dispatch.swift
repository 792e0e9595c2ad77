import CWebSockets
import Glibc
import DoorCore
import MainLoop

/// lws's callbacks, one switch over the reason, and the WebSocket frames in and out.
extension WebSocketHost {
    func handle(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?,
                _ length: Int) -> Int32 {
        guard let wsi else { return 0 }
        switch reason {
        // Server: HTTP
        case LWS_CALLBACK_HTTP:
            let path = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "/"
            if let refusal = refusedRequest(wsi) {
                // Said at once, then the connection closes: its body is never read, so it cannot hold the
                // connection or be taken for the next request.
                _ = startHTTPResponse(wsi, refusal)
                if let body = pendingHTTP.removeValue(forKey: wsi), !body.isEmpty {
                    var buffer = [UInt8](repeating: 0, count: Int(ic_lws_pre()) + body.count)
                    buffer.replaceSubrange(Int(ic_lws_pre())..., with: body)
                    _ = buffer.withUnsafeMutableBufferPointer {
                        lws_write(wsi, $0.baseAddress! + Int(ic_lws_pre()), body.count, LWS_WRITE_HTTP_FINAL)
                    }
                }
                return -1
            }
            if listensSecurely, lws_is_ssl(wsi) == 0 { return startHTTPResponse(wsi, redirectToHTTPS(wsi, path: path)) }
            var response = serverHandler?.handleHTTP(path: path) ?? .text(404, "not found\n")
            // A file the browser already has: 304, no body (HTTPResponse+NotModified.swift).
            if let tags = header(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH) { response = response.notModified(ifNoneMatch: tags) }
            // HEAD: the same headers (Content-Length included), no body.
            let isHead = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0
            return startHTTPResponse(wsi, response, sendBody: !isHead)
        case LWS_CALLBACK_HTTP_WRITEABLE:
            guard let body = pendingHTTP.removeValue(forKey: wsi) else { return 0 }
            if !body.isEmpty {
                var buffer = [UInt8](repeating: 0, count: Int(ic_lws_pre()) + body.count)
                buffer.replaceSubrange(Int(ic_lws_pre())..., with: body)
                let written = buffer.withUnsafeMutableBufferPointer {
                    lws_write(wsi, $0.baseAddress! + Int(ic_lws_pre()), body.count, LWS_WRITE_HTTP_FINAL)
                }
                if written < 0 { return -1 }
            }
            return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
        case LWS_CALLBACK_HTTP_BODY:
            return -1 // no request we take has a body (`refusedRequest`)
        case LWS_CALLBACK_CLOSED_HTTP:
            pendingHTTP[wsi] = nil
            return 0

        // Server: any connection, as it is accepted
        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
            // `input` is the accepted descriptor; `wsi` is still the listener's.
            let fd = Int32(truncatingIfNeeded: Int(bitPattern: input))
            guard let cap = perAddress.limit, let address = Self.peerAddress(of: fd), perAddress.isFull(address)
            else { return 0 }
            if let suppressed = perAddress.refusals.admit(now: monotonicMillis()) {
                Log.warning("signaling", "refused a connection from \(address): \(cap) open from there already"
                            + (suppressed > 0 ? "; \(suppressed) more such lines suppressed" : ""))
            }
            return -1
        case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
            if perAddress.limit != nil { perAddress.opened(wsi, from: remoteAddress(wsi)) }
            return 0

        // Server: WebSocket
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            if listensSecurely, lws_is_ssl(wsi) == 0 { return -1 } // a TLS listener takes no plain ws://
            let path = header(wsi, WSI_TOKEN_GET_URI) ?? ""
            return serverHandler?.acceptsWebSocket(path: path, origin: header(wsi, WSI_TOKEN_ORIGIN),
                                                   host: header(wsi, WSI_TOKEN_HOST)) == true ? 0 : -1
        case LWS_CALLBACK_ESTABLISHED:
            let socket = WebSocketConnection(isClient: false, peerAddress: remoteAddress(wsi))
            socket.wsi = wsi
            socket.isOpen = true
            connections[wsi] = socket
            let path = header(wsi, WSI_TOKEN_GET_URI) ?? ""
            serverHandler?.webSocketConnected(socket, path: path, query: queryArguments(wsi))
            if socket.delegate == nil { return -1 }
            return 0
        case LWS_CALLBACK_RECEIVE, LWS_CALLBACK_CLIENT_RECEIVE:
            guard let socket = connections[wsi] else { return -1 }
            return receive(socket, wsi, input, length)
        case LWS_CALLBACK_SERVER_WRITEABLE, LWS_CALLBACK_CLIENT_WRITEABLE:
            guard let socket = connections[wsi] else { return -1 }
            return writable(socket, wsi)
        case LWS_CALLBACK_CLOSED, LWS_CALLBACK_CLIENT_CLOSED:
            connections.removeValue(forKey: wsi)?.reportClosed(nil)
            return 0

        // Client
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            guard let socket = clientSocket(wsi) else { return -1 }
            socket.wsi = wsi
            socket.isOpen = true
            connections[wsi] = socket
            pendingClients.removeAll { $0 === socket }
            socket.delegate?.webSocketDidOpen(socket)
            if socket.hasQueuedFrames || socket.closeRequested { lws_callback_on_writable(wsi) }
            return 0
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            let text = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection failed"
            let socket = connections.removeValue(forKey: wsi) ?? clientSocket(wsi)
            if let socket {
                pendingClients.removeAll { $0 === socket }
                socket.reportClosed(text)
            }
            return 0
        case LWS_CALLBACK_WSI_DESTROY:
            if let socket = connections.removeValue(forKey: wsi) {
                pendingClients.removeAll { $0 === socket }
                socket.reportClosed(socket.isClient && !socket.isOpen ? "connection failed" : nil)
            }
            pendingHTTP[wsi] = nil
            perAddress.closed(wsi)
            return 0
        default:
            return lws_callback_http_dummy(wsi, reason, nil, input, length)
        }
    }

    func clientSocket(_ wsi: OpaquePointer) -> WebSocketConnection? {
        guard let opaque = lws_get_opaque_user_data(wsi) else { return nil }
        let socket = Unmanaged<WebSocketConnection>.fromOpaque(opaque).takeUnretainedValue()
        return pendingClients.contains { $0 === socket } || connections[wsi] === socket ? socket : nil
    }

    func receive(_ socket: WebSocketConnection, _ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?,
                         _ length: Int) -> Int32 {
        if let input, length > 0 {
            socket.incoming.append(contentsOf: UnsafeRawBufferPointer(start: input, count: length))
        }
        let limit = socket.isClient ? Self.maxReceivedByClientBytes : Self.maxMessageBytes
        if socket.incoming.count > limit {
            Log.warning("signaling", "closing \(socket.peerAddress): frame over \(limit) bytes")
            socket.incoming = []
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nil, 0)
            return -1
        }
        guard lws_is_final_fragment(wsi) != 0, lws_remaining_packet_payload(wsi) == 0 else { return 0 }
        let bytes = socket.incoming
        socket.incoming = []
        guard lws_frame_is_binary(wsi) == 0 else {
            Log.debug("signaling", "ignored a binary frame from \(socket.peerAddress)")
            return 0
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            Log.debug("signaling", "ignored a frame that is not UTF-8 from \(socket.peerAddress)")
            return 0
        }
        socket.delegate?.webSocket(socket, didReceive: text)
        countFrame(wsi)
        return 0
    }

    /// Counts a frame for this loop turn; the socket's `maxFramesPerTurn`th pauses it until the next turn.
    func countFrame(_ wsi: OpaquePointer) {
        if turn.isEmpty {
            // Posted at the loop's default priority: it runs once the sources ready now have been dispatched.
            GLibLoop.shared.post { [weak self] in self?.endTurn() }
        }
        let count = turn.count(wsi)
        if count == Self.maxFramesPerTurn, connections[wsi] != nil {
            lws_rx_flow_control(wsi, 0)
            turn.pause(wsi)
        }
    }

    func endTurn() {
        for wsi in turn.end() where connections[wsi] != nil { lws_rx_flow_control(wsi, 1) }
    }

    /// Writes queued frames while the socket takes them (at most 64 per callback, so one busy peer does
    /// not hold up the loop), then closes if asked and everything is out.
    func writable(_ socket: WebSocketConnection, _ wsi: OpaquePointer) -> Int32 {
        var written = 0
        while socket.hasQueuedFrames, written < 64, written == 0 || lws_send_pipe_choked(wsi) == 0 {
            let frame = socket.outbox[socket.outboxHead]
            socket.outbox[socket.outboxHead] = []
            socket.outboxHead += 1
            socket.queuedBytes -= frame.count
            let pre = Int(ic_lws_pre())
            var buffer = [UInt8](repeating: 0, count: pre + frame.count)
            buffer.replaceSubrange(pre..., with: frame)
            let result = buffer.withUnsafeMutableBufferPointer {
                lws_write(wsi, $0.baseAddress! + pre, frame.count, LWS_WRITE_TEXT)
            }
            if result < frame.count { return -1 }
            socket.lastProgress = monotonicMillis()
            written += 1
        }
        if socket.outboxHead > 256, socket.outboxHead * 2 > socket.outbox.count {
            socket.outbox.removeFirst(socket.outboxHead)
            socket.outboxHead = 0
        }
        if socket.hasQueuedFrames {
            lws_callback_on_writable(wsi)
            return 0
        }
        if socket.closeRequested {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nil, 0)
            return -1
        }
        return 0
    }
}
