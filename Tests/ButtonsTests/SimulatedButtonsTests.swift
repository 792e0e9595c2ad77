import DoorCore
import MainLoop
import Testing
import TestSupport
@testable import Buttons

@Suite struct SimulatedButtonsTests {
    init() { GLibLoop.shared.start() }

    @Test func pressesReachTheHandlerOnlyWhileStarted() async {
        let buttons = SimulatedButtons()
        let recorder = PressRecorder()
        #expect(await buttons.press(ButtonPress(.doorbell)) == false)
        await buttons.start { recorder.append($0) }
        #expect(await buttons.press(ButtonPress(.doorbell)))
        #expect(await buttons.press(ButtonPress(.mute, long: true)))
        await buttons.stop()
        #expect(await buttons.press(ButtonPress(.answer)) == false)
        #expect(recorder.all == [ButtonPress(.doorbell), ButtonPress(.mute, long: true)])
    }

    @Test func pressRequestsFromTheControlSocket() async {
        let buttons = SimulatedButtons()
        let recorder = PressRecorder()
        #expect(await buttons.handle(pressRequest: ["cmd": "press", "button": "answer"])
                == ["ok": false, "error": "buttons are not started"])
        await buttons.start { recorder.append($0) }
        #expect(await buttons.handle(pressRequest: ["cmd": "press", "button": "doorbell", "long": false]) == ["ok": true])
        #expect(await buttons.handle(pressRequest: ["cmd": "press", "button": "decline", "long": true]) == ["ok": true])
        #expect(await buttons.handle(pressRequest: ["cmd": "press", "button": "bell"])
                == ["ok": false, "error": "unknown button 'bell' (one of doorbell, answer, decline, mute)"])
        #expect(await buttons.handle(pressRequest: ["cmd": "press", "button": "mute", "long": "yes"])
                == ["ok": false, "error": "\"long\" must be true or false"])
        #expect(await buttons.handle(pressRequest: ["cmd": "press"])["ok"] == false)
        #expect(recorder.all == [ButtonPress(.doorbell), ButtonPress(.decline, long: true)])
    }
}
