import Testing
@testable import Signaling

/// The host's pure decisions: where plain HTTP is redirected, and lws's share of the descriptors.
@Suite struct WebSocketHostPolicyTests {
    @Test func theRedirectTargetIsTheConfiguredOriginOverHTTPS() {
        #expect(WebSocketHost.httpsOrigin(of: "https://door.example.net:8443/") == "https://door.example.net:8443")
        #expect(WebSocketHost.httpsOrigin(of: "http://localhost:8080") == "https://localhost:8080")
        #expect(WebSocketHost.httpsOrigin(of: "HTTPS://Door.example/app/?x#y") == "https://Door.example")
        #expect(WebSocketHost.httpsOrigin(of: "https://user@evil.example/") == nil)
        #expect(WebSocketHost.httpsOrigin(of: "ftp://door/") == nil)
        #expect(WebSocketHost.httpsOrigin(of: "https:///") == nil)
    }

    @Test func pathAndQueryAreEncodedAgainForTheLocation() {
        #expect(WebSocketHost.percentEncoded("/js/app.js", keeping: "/") == "/js/app.js")
        #expect(WebSocketHost.percentEncoded("/a b\r\nSet-Cookie:x", keeping: "/") == "/a%20b%0D%0ASet-Cookie%3Ax")
        #expect(WebSocketHost.percentEncoded("room=12345&x=é", keeping: "=&") == "room=12345&x=%C3%A9")
    }

    @Test func lwsKeepsAReserveOfDescriptorsForTheRestOfTheDoor() {
        #expect(WebSocketHost.socketLimit(descriptorLimit: 1024) == 768)
        #expect(WebSocketHost.socketLimit(descriptorLimit: 4096) == 3072)
        #expect(WebSocketHost.socketLimit(descriptorLimit: 256) == 192)
        #expect(WebSocketHost.socketLimit(descriptorLimit: 40) == 16)
        #expect(WebSocketHost.socketLimit(descriptorLimit: Int.max) == 8192)
    }
}
