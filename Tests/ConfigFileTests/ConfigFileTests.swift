import DoorCore
import Testing
@testable import ConfigFile

/// The repository's `config/intercom.yaml`, found from this file's path.
private let defaultConfigPath: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/ConfigFileTests/ConfigFileTests.swift
    return parts.joined(separator: "/") + "/config/intercom.yaml"
}()

private func error(_ yaml: String) -> ConfigurationError? {
    do {
        _ = try ConfigFile.parse(yaml, file: "test.yaml")
        return nil
    } catch {
        return error
    }
}

@Suite struct ConfigFileTests {
    @Test func theShippedConfigLoadsWithTheDocumentedValues() throws {
        let c = try ConfigFile.load(path: defaultConfigPath)
        #expect(c.door.name == "Front door")
        #expect(c.door.roomLifetimeSeconds == 120)
        #expect(c.door.answerTimeoutSeconds == 30 && c.door.knocksNeedAnswer && c.door.autoAcceptProvenCallers)
        #expect(c.door.pairingWindowSeconds == 120)
        #expect(c.web.base == "http://intercom.local:8080")
        #expect(c.web.root == nil)
        #expect(c.signaling.listen == Configuration.Listen(host: "0.0.0.0", port: 8080))
        #expect(c.signaling.server == nil)
        #expect(c.gpio.buttons == [.doorbell: .init(offset: 17), .answer: .init(offset: 27),
                                   .decline: .init(offset: 22), .mute: .init(offset: 23)])
        #expect(c.media.width == 640 && c.media.height == 480 && c.media.encoder == .auto)
        #expect(c.paths.control == nil)
        #expect(c.line(of: "gpio.buttons.mute") != nil)
    }

    @Test func emptyFileIsAllDefaults() throws {
        #expect(try ConfigFile.parse("") == Configuration())
        #expect(try ConfigFile.parse("# only a comment\n") == Configuration())
    }

    @Test func errorsNameFileLineAndKey() throws {
        let e = try #require(error("door:\n  name: Back door\n  room_lifetim: 60\n"))
        #expect(e.code == .unknownKey)
        #expect(e.key == "door.room_lifetim")
        #expect(e.line == 3)
        #expect(e.description.hasPrefix("test.yaml:3: door.room_lifetim: unknown key; did you mean 'room_lifetime'?"))
    }

    @Test func quotedNumbersAreTextAndPlainWordsAreNotNumbers() throws {
        #expect(error("door:\n  room_lifetime: \"60\"\n")?.code == .wrongType)
        #expect(error("media:\n  bitrate_kbps: fast\n")?.key == "media.bitrate_kbps")
        #expect(try ConfigFile.parse("media:\n  bitrate_kbps: 2_000\n").media.bitrateKbps == 2000)
        #expect(try ConfigFile.parse("door:\n  name: 1234\n").door.name == "1234")
    }

    @Test func theLostLimitIsWholeSecondsWithinBounds() throws {
        #expect(try ConfigFile.parse("").media.lostAfterSeconds == 5)
        #expect(try ConfigFile.parse("media:\n  lost_after_seconds: 12\n").media.lostAfterSeconds == 12)
        let short = try #require(error("media:\n  lost_after_seconds: 2\n"))
        #expect(short.key == "media.lost_after_seconds" && short.code == .badValue)
        #expect(error("media:\n  lost_after_seconds: 61\n")?.key == "media.lost_after_seconds")
        #expect(error("media:\n  lost_after_seconds: 5s\n")?.code == .wrongType)
    }

    @Test func warmJoinKey() throws {
        #expect(try ConfigFile.parse("").media.warmJoin)
        #expect(try !ConfigFile.parse("media:\n  warm_join: false\n").media.warmJoin)
        let wrong = try #require(error("media:\n  warm_join: sometimes\n"))
        #expect(wrong.key == "media.warm_join" && wrong.code == .wrongType)
    }

    @Test func knockPolicyKeys() throws {
        let c = try ConfigFile.parse("door:\n  knocks_need_answer: false\n  auto_accept_proven_callers: false\n  answer_timeout: 45\n")
        #expect(!c.door.knocksNeedAnswer && !c.door.autoAcceptProvenCallers && c.door.answerTimeoutSeconds == 45)
        #expect(error("door:\n  answer_timeout: 2\n")?.key == "door.answer_timeout")
        #expect(error("door:\n  knocks_need_answer: maybe\n")?.key == "door.knocks_need_answer")
    }

    @Test func tlsNeedsBothFilesAndTheBuiltInServer() throws {
        let c = try ConfigFile.parse("signaling:\n  tls_certificate: /etc/intercom/cert.pem\n  tls_private_key: /etc/intercom/key.pem\n")
        #expect(c.signaling.tlsCertificate == "/etc/intercom/cert.pem" && c.signaling.tlsPrivateKey == "/etc/intercom/key.pem")
        #expect(error("signaling:\n  tls_certificate: /etc/intercom/cert.pem\n")?.key == "signaling.tls_certificate")
        #expect(error("signaling:\n  tls_private_key: /etc/intercom/key.pem\n")?.key == "signaling.tls_private_key")
        #expect(error("signaling:\n  tls_certificate: cert.pem\n  tls_private_key: /k.pem\n")?.key == "signaling.tls_certificate")
        let off = error("signaling:\n  listen: off\n  server: wss://peers.example\n"
                        + "  tls_certificate: /c.pem\n  tls_private_key: /k.pem\n")
        #expect(off?.key == "signaling.tls_certificate")
        #expect(off?.description.contains("listen is off") == true)
    }

    @Test func shortButtonFormAndDefaultsPerButton() throws {
        let c = try ConfigFile.parse("gpio:\n  buttons:\n    doorbell: 5\n    mute: { line: 6, active_low: false }\n")
        #expect(c.gpio.buttons == [.doorbell: .init(offset: 5), .mute: .init(offset: 6, activeLow: false, pullUp: true)])
    }

    @Test func resolutionsBeyondLevel31AreRefused() throws {
        #expect(try ConfigFile.parse("media:\n  resolution: 1280x720\n").media.width == 1280)
        let e = try #require(error("media:\n  resolution: 1920x1080\n"))
        #expect(e.key == "media.resolution" && e.code == .badValue && e.line == 2)
        let fps = try #require(error("media:\n  resolution: 1280x720\n  framerate: 60\n"))
        #expect(fps.key == "media.resolution")
        let onlyFps = try #require(error("media:\n  framerate: 60\n  resolution: 1280x720\n"))
        #expect(onlyFps.line == 3)
    }

    @Test func displayModeIsAutoOrASize() throws {
        #expect(try ConfigFile.parse("display:\n  output: drm\n").display.mode == .auto)
        #expect(try ConfigFile.parse("display:\n  mode: auto\n").display.mode == .auto)
        #expect(try ConfigFile.parse("display:\n  mode: 1280x720\n").display.mode == .size(width: 1280, height: 720))
        for bad in ["720p", "1280x", "x720", "1280X720", "100x100", "99999x720"] {
            let e = try #require(error("display:\n  output: drm\n  mode: \(bad)\n"))
            #expect(e.key == "display.mode" && e.code == .badValue && e.line == 3)
        }
    }

    @Test func syntaxErrorsCarryTheLine() throws {
        let e = try #require(error("door:\n  name: [unclosed\nweb:\n  base: x\n"))
        #expect(e.code == .syntax)
        #expect(e.line != nil)
        #expect(error("a: &x 1\nb: *x\n")?.code == .syntax)
    }

    @Test func duplicateKeysAreRefused() throws {
        let e = try #require(error("door:\n  name: A\n  name: B\n"))
        #expect(e.key == "door.name" && e.line == 3 && e.message.contains("line 2"))
    }

    @Test func aMissingFileSaysSo() throws {
        do {
            _ = try ConfigFile.load(path: "/nonexistent/intercom.yaml")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.code == .unreadable)
            #expect(error.description.contains("/nonexistent/intercom.yaml"))
        }
    }
}
