import CWebSockets
import Glibc
import DoorCore
import MainLoop

/// The built-in server's HTTP side: what a request carries, what is refused, the responses.
extension WebSocketHost {
    func startHTTPResponse(_ wsi: OpaquePointer, _ response: HTTPResponse, sendBody: Bool = true) -> Int32 {
        let pre = Int(ic_lws_pre())
        var buffer = [UInt8](repeating: 0, count: pre + 4096)
        return buffer.withUnsafeMutableBufferPointer { raw -> Int32 in
            let start = raw.baseAddress! + pre
            var p: UnsafeMutablePointer<UInt8>? = start
            let end = raw.baseAddress! + raw.count - 1
            if lws_add_http_common_headers(wsi, response.status, response.contentType,
                                           lws_filepos_t(response.body.count), &p, end) != 0 { return 1 }
            for (name, value) in response.headers {
                let ok = lowercasedHeaderName(name).withCString { n in
                    value.withCString { v in
                        lws_add_http_header_by_name(wsi, UnsafeRawPointer(n).assumingMemoryBound(to: UInt8.self),
                                                    UnsafeRawPointer(v).assumingMemoryBound(to: UInt8.self),
                                                    Int32(value.utf8.count), &p, end)
                    }
                }
                if ok != 0 { return 1 }
            }
            if lws_finalize_write_http_header(wsi, start, &p, end) != 0 { return 1 }
            pendingHTTP[wsi] = sendBody ? response.body : []
            lws_callback_on_writable(wsi)
            return 0
        }
    }

    func lowercasedHeaderName(_ name: String) -> String {
        let lower = String(name.unicodeScalars.map { $0.properties.isUppercase ? Character($0.properties.lowercaseMapping) : Character($0) })
        return lower.hasSuffix(":") ? lower : lower + ":"
    }

    func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = Int(lws_hdr_total_length(wsi, token))
        guard length > 0, length < 8192 else { return nil }
        var buffer = [CChar](repeating: 0, count: length + 1)
        guard lws_hdr_copy(wsi, &buffer, Int32(buffer.count), token) >= 0 else { return nil }
        return String(cString: buffer)
    }

    /// URL arguments (`key=…&id=…`), each already URL-decoded by lws.
    func queryArguments(_ wsi: OpaquePointer) -> [String: String] {
        var result: [String: String] = [:]
        var buffer = [CChar](repeating: 0, count: 1024)
        var index: Int32 = 0
        while index < 32, lws_hdr_copy_fragment(wsi, &buffer, Int32(buffer.count), WSI_TOKEN_HTTP_URI_ARGS, index) > 0 {
            let pair = String(cString: buffer)
            if let eq = pair.firstIndex(of: "=") {
                result[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            } else {
                result[pair] = ""
            }
            index += 1
        }
        return result
    }

    /// The built-in web server takes GET and HEAD without a body: any other method is 405, a body (a
    /// Content-Length above 0, or chunked) is 413. nil: the request is taken.
    func refusedRequest(_ wsi: OpaquePointer) -> HTTPResponse? {
        let closing = [("Connection", "close"), ("Cache-Control", "no-store")]
        guard lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0 else {
            var response = HTTPResponse.text(405, "Only GET and HEAD are taken here.\n")
            response.headers = [("Allow", "GET, HEAD")] + closing
            return response
        }
        let length = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH).map { $0.trimmingPrefix(while: { $0 == " " }) }
        let hasBody = (length.map { $0 != "0" } ?? false)
            || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0
        guard hasBody else { return nil }
        var response = HTTPResponse.text(413, "Request bodies are not taken here.\n")
        response.headers = closing
        return response
    }

    /// 301 to the same path (and query) under `httpsBase`.
    func redirectToHTTPS(_ wsi: OpaquePointer, path: String) -> HTTPResponse {
        guard let httpsBase else { return .text(400, "This door speaks HTTPS only.\n") }
        let query = header(wsi, WSI_TOKEN_HTTP_URI_ARGS).map { "?" + Self.percentEncoded($0, keeping: "=&") } ?? ""
        let location = httpsBase + Self.percentEncoded(path, keeping: "/") + query
        return HTTPResponse(status: 301, contentType: "text/plain; charset=utf-8", body: Array("\(location)\n".utf8),
                            headers: [("Location", location), ("Cache-Control", "no-store")])
    }

    /// `https://host[:port]` of a configured base URL (`http://` or `https://`; any path dropped); nil otherwise.
    public nonisolated static func httpsOrigin(of base: String) -> String? {
        let lower = base.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lower.hasPrefix($0) }) else { return nil }
        let authority = base.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains(where: { $0 == "@" || $0 == " " || $0 == "\\" }) else { return nil }
        return "https://" + authority
    }

    /// lws hands us the path and query URL-decoded: encode them again for a Location header.
    nonisolated static func percentEncoded(_ text: String, keeping extra: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let kept = unreserved.union(extra.utf8)
        let hex = Array("0123456789ABCDEF")
        var result = ""
        for byte in text.utf8 {
            if kept.contains(byte) { result.unicodeScalars.append(UnicodeScalar(byte)) } else {
                result += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return result
    }

    /// The IPv4 address a socket is connected from, as `lws_get_peer_simple` writes it.
    static func peerAddress(of fd: Int32) -> String? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let got = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard got == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
        return String(cString: text)
    }

    func remoteAddress(_ wsi: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        lws_get_peer_simple(wsi, &buffer, buffer.count)
        return String(cString: buffer)
    }
}
