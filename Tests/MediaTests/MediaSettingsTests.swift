import Testing
@testable import Media

/// The settings' groups and the flat names kept for code not yet moved to them are one storage.
@Suite struct MediaSettingsTests {
    @Test func aFlatNameAndItsGroupsFieldAreTheSameSetting() {
        var settings = MediaSettings()
        settings.width = 320
        settings.videoBitrateKbps = 900
        settings.microphone = "hw:1,0"
        settings.lostAfterMillis = 7000
        settings.selfViewWidth = 200
        settings.clipTee = true
        #expect(settings.video.width == 320)
        #expect(settings.video.bitrateKbps == 900)
        #expect(settings.audio.microphone == "hw:1,0")
        #expect(settings.receiving.lostAfterMillis == 7000)
        #expect(settings.screen.selfViewWidth == 200)
        #expect(settings.extras.clipTee)
        settings.video.camera = .test
        settings.extras.warmJoin = false
        #expect(settings.camera == .test)
        #expect(!settings.warmJoin)
        #expect(settings != MediaSettings())
    }

    @Test func theDefaultsAreTheOnesTheConfigurationDocumentationNames() {
        let settings = MediaSettings()
        #expect(settings.video.camera == .auto && settings.video.framerate == 30 && settings.video.width == nil)
        #expect(settings.audio.microphone == "auto" && settings.audio.speaker == "auto")
        #expect(settings.audio.echoCancellation && settings.audio.noiseSuppression)
        #expect(settings.receiving.lostAfterMillis == 5000 && settings.receiving.jitterLatencyMillis == 60)
        #expect(settings.screen.remoteVideoFramesPerSecond == 15)
        #expect(settings.extras.warmJoin && !settings.extras.clockStamp && !settings.extras.clipTee)
    }
}
