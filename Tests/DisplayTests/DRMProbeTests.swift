@testable import Display
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct DRMProbeTests {
    @Test(.enabled(if: access("/dev/dri", F_OK) != 0, "this machine has DRM devices"))
    func noDRMDeviceHereThrowsNoDisplay() {
        #expect(throws: DisplayError.noDisplay("no /dev/dri/card* device")) { try DRMProbe.cards() }
    }

    @Test func emptyDirectoryThrowsNoDisplay() throws {
        try inScratchDirectory("drm-empty") { dir in
            #expect(throws: DisplayError.noDisplay("no \(dir)/card* device")) { try DRMProbe.cards(in: dir) }
        }
    }

    @Test func cardThatIsNoDRMDeviceThrowsNoDisplayNamingIt() throws {
        try inScratchDirectory("drm-fake") { dir in
            let fake = dir + "/card0"
            let fd = open(fake, O_CREAT | O_WRONLY, 0o644)
            try #require(fd >= 0)
            close(fd)
            do {
                _ = try DRMProbe.cards(in: dir)
                Issue.record("probing a plain file succeeded")
            } catch let DisplayError.noDisplay(why) {
                #expect(why.hasPrefix("no KMS device: \(fake): "), "\(why)")
            }
        }
    }
}
