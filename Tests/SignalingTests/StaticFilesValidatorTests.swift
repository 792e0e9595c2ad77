import Glibc
import Testing
@testable import Signaling

/// The built-in web server's files carry an `ETag`; a browser that sends it back gets 304 and no body, and a
/// file that changed gets its new content.
@Suite struct StaticFilesValidatorTests {
    @Test func aFileTheBrowserHasIsNotSentAgain() throws {
        let root = try #require(Self.temporaryDirectory())
        defer { Self.remove(root, files: ["app.js"]) }
        Self.write("\(root)/app.js", "export const a = 1;\n")
        let files = StaticFiles(root: root)
        let first = files.response(for: "/app.js")
        #expect(first.status == 200 && first.body == Array("export const a = 1;\n".utf8))
        let tag = try #require(first.headers.first { $0.0 == "ETag" }?.1)
        #expect(tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count > 4)

        let again = files.response(for: "/app.js").notModified(ifNoneMatch: tag)
        #expect(again.status == 304 && again.body.isEmpty)
        #expect(again.headers.contains { $0.0 == "ETag" && $0.1 == tag }, "a 304 keeps the tag")
        #expect(files.response(for: "/app.js").notModified(ifNoneMatch: "\"other\", W/\(tag)").status == 304)
        #expect(files.response(for: "/app.js").notModified(ifNoneMatch: "*").status == 304)
        #expect(files.response(for: "/app.js").notModified(ifNoneMatch: "\"other\"").status == 200)

        // Changed (a door's update): another size and time, so another tag, and the new content.
        Self.write("\(root)/app.js", "export const a = 22;\n")
        let changed = files.response(for: "/app.js").notModified(ifNoneMatch: tag)
        #expect(changed.status == 200 && changed.body == Array("export const a = 22;\n".utf8))
    }

    @Test func onlyAnOKResponseBecomesNotModified() {
        let missing = HTTPResponse.text(404, "not found\n")
        #expect(missing.notModified(ifNoneMatch: "*").status == 404)
        let untagged = HTTPResponse(status: 200, contentType: "application/json", body: Array("{}".utf8))
        #expect(untagged.notModified(ifNoneMatch: "*").status == 200, "config.json has no tag and is always sent")
    }

    static func temporaryDirectory() -> String? {
        var template = Array("/tmp/static-files-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return nil }
        return String(cString: made)
    }

    static func write(_ path: String, _ text: String) {
        guard let file = fopen(path, "wb") else { return }
        _ = text.withCString { fputs($0, file) }
        fclose(file)
    }

    static func remove(_ root: String, files: [String]) {
        for name in files { unlink("\(root)/\(name)") }
        rmdir(root)
    }
}
