"""The V4L2 camera path on vivid: a door with `media.camera: v4l2` captures from vivid's /dev/video0 in a call,
and a second door process (the far end, which calls the first one's room with the code alone) decodes those
frames; `auto` finds the same camera.
"""

import glob
import re
import subprocess

import pytest

from conftest import next_event, report
from polling import poll
from test_buttons import DOORBELL, door_config, press

WIDTH, HEIGHT = 320, 240  # small: vivid renders its test pattern slowly under emulation
CALL_TIMEOUT = 240.0  # ICE, DTLS and the first decoded frames, all emulated


def media_section(camera):
    return (f"media:\n  camera: {camera}\n  resolution: {WIDTH}x{HEIGHT}\n  framerate: 10\n"
            "  microphone: 'off'\n  speaker: 'off'\n")


def test_auto_finds_the_vivid_camera(intercom_bin, tmp_path):
    config = tmp_path / "intercom.yaml"
    config.write_text(media_section("auto"))
    result = subprocess.run([intercom_bin, "probe", "media", "--config", config], capture_output=True, text=True,
                            timeout=120)
    lines = result.stdout.splitlines()
    camera = glob.glob("/dev/video*")[0]
    assert any(re.match(rf"OK +camera +{camera}: ", line) for line in lines), lines
    plan = next((line for line in lines if "would use" in line), "")
    assert camera in plan or "v4l2" in plan, lines
    report(f"camera: probe with camera auto: {plan.strip()}")


@pytest.mark.skip(reason="not done: under emulation the near door answers ~30 s after the offer, when the far "
                         "end's dial has already timed out (docs/kernel-vm.md)")
def test_a_call_carries_vivids_picture_to_the_far_end(pi_chip, start_door):
    camera = glob.glob("/dev/video*")[0]
    near_config = door_config(extra=media_section("v4l2").replace("media:\n", f"media:\n  camera_device: {camera}\n"))
    near_config = near_config.replace("media:\n  camera: test\n", "")
    # The code alone lets the caller in: under emulation an ANSWER press comes after the far end's 30 s dial
    # timeout (the buttons are tested in test_buttons.py).
    near_config = near_config.replace("door:\n", "door:\n  knocks_need_answer: false\n")
    near = start_door(near_config)
    port = int(re.search(r"listen: 127\.0\.0\.1:(\d+)", near_config).group(1))
    events = near.events()
    press(pi_chip, DOORBELL)
    next_event(events, lambda e: e.get("event") == "room-opened", "room-opened")
    knock_peer = near.state()["room"]["knockPeerId"]

    far_config = (f"door:\n  name: Far end\nsignaling:\n  listen: 'off'\n  server: ws://127.0.0.1:{port}\n"
                  f"web:\n  base: http://127.0.0.1:{port}\npaths:\n  state: @WORKDIR@/state\n"
                  "display:\n  output: snapshot\n" + media_section("test"))
    far = start_door(far_config)
    # Both ends registered with the near door's server before the far end dials.
    poll(lambda: f"{knock_peer} registered" in near.log_text(), 60, message=near.log_text)
    poll(lambda: "registered on ws://" in far.log_text(), 60, message=far.log_text)
    answer = far.control({"cmd": "call", "peer": knock_peer, "name": "Far end"})
    assert answer.get("ok") is True, answer

    def far_frames():
        call = far.state().get("call") or {}
        return call if call.get("videoFramesDecoded", 0) >= 10 else None

    call = poll(far_frames, CALL_TIMEOUT, interval=1.0,
                message=lambda: f"the far end decoded no frames: {far.state()}\n{near.log_text()[-3000:]}")
    assert (call["videoWidth"], call["videoHeight"]) == (WIDTH, HEIGHT), call
    assert "v4l2src" in near.log_text() or camera in near.log_text(), near.log_text()
    report(f"camera: the far end decoded {call['videoFramesDecoded']:.0f} frames of vivid's {WIDTH}x{HEIGHT} "
           f"picture from {camera}")
