/// Conditional requests for the built-in web server's files: each carries an `ETag` (`StaticFiles`), and a
/// browser that sends it back in `If-None-Match` gets `304 Not Modified` with no body. The page's modules are
/// `Cache-Control: no-cache` (a door's update must reach the next page load at once), so without a validator
/// every page load fetched all of them again, one round of the module waterfall after another.
extension HTTPResponse {
    /// The entity tag of a file: its size and modification time, in hex (no read of the content needed).
    static func entityTag(size: Int, seconds: Int, nanoseconds: Int) -> String {
        "\"\(String(size, radix: 16))-\(String(seconds, radix: 16))-\(String(nanoseconds, radix: 16))\""
    }

    /// `304 Not Modified` (headers kept, no body) when `ifNoneMatch` (the request's header: `*` or a list of
    /// tags, weak or not) names this response's `ETag`; else the response unchanged. Only a 200 changes.
    func notModified(ifNoneMatch: String) -> HTTPResponse {
        guard status == 200, let tag = headers.first(where: { $0.0.lowercased() == "etag" })?.1 else { return self }
        let offered = ifNoneMatch.split(separator: ",").map {
            $0.trimmingPrefix(while: { $0 == " " }).replacing("W/", with: "", maxReplacements: 1)
                .trimmingSuffix(while: { $0 == " " })
        }
        guard offered.contains(where: { $0 == "*" || $0 == tag }) else { return self }
        return HTTPResponse(status: 304, contentType: contentType, body: [], headers: headers)
    }
}

private extension Substring {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
