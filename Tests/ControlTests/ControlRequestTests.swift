import Control
import DoorCore
import Glibc
import Testing

/// The control commands in the code and in the docs are the same list.
@Suite struct ControlRequestTests {
    static let repository = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3)
        .joined(separator: "/")

    static func read(_ relative: String) -> String {
        guard let file = fopen(repository + "/" + relative, "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Every `X` in `{"cmd":"X"` of a text.
    static func documentedCommands(in text: String) -> Set<String> {
        Set(text.split(separator: "{\"cmd\":\"").dropFirst().map { $0.prefix { $0 != "\"" } }.map(String.init))
    }

    @Test func everyCommandIsDocumentedAndEveryDocumentedCommandExists() {
        let page = Self.read("docs/control-socket.md")
        #expect(!page.isEmpty, "docs/control-socket.md not found")
        let documented = Self.documentedCommands(in: page)
        let known = Set(ControlRequest.Command.allCases.map(\.rawValue))
        #expect(documented.subtracting(known).isEmpty, "documented but unknown: \(documented.subtracting(known).sorted())")
        #expect(known.subtracting(documented).isEmpty, "known but undocumented: \(known.subtracting(documented).sorted())")
    }

    @Test func theREADMEsCtlExamplesNameRealCommands() {
        let readme = Self.read("README.md")
        #expect(!readme.isEmpty, "README.md not found")
        let named = Set(readme.split(separator: "intercom ctl ").dropFirst().map { String($0.prefix { $0.isLetter || $0 == "-" }) })
        #expect(!named.isEmpty)
        let known = Set(ControlRequest.Command.allCases.map(\.rawValue))
        #expect(named.subtracting(known).isEmpty, "README names ctl commands that do not exist: \(named.subtracting(known).sorted())")
    }

    @Test func aRequestIsTypedOrUnknown() {
        #expect(ControlRequest(["cmd": "push-key"])?.command == .pushKey)
        #expect(ControlRequest(["cmd": "press", "button": "doorbell"])?.json["button"]?.stringValue == "doorbell")
        #expect(ControlRequest(["cmd": "open-sesame"]) == nil)
        #expect(ControlRequest(["button": "doorbell"]) == nil)
        #expect(ControlRequest.unknown(["cmd": "open-sesame"])["error"]?.stringValue?.hasPrefix("unknown cmd open-sesame; try press, state") == true)
    }
}
