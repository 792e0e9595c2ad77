"""The V4L2 camera path on vivid: a door with `media.camera: v4l2` captures from vivid's /dev/video0 in a call,
and a second door process (the far end, which calls the first one's room with the code alone) decodes those
frames; `auto` finds the same camera.
"""

import glob
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import RESULTS, next_event, report
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


def test_a_call_carries_vivids_picture_to_the_far_end(pi_chip, start_door):
    camera = glob.glob("/dev/video*")[0]
    # The near door as on a device: its screen on vkms, no PNG snapshots (under emulation each snapshot of the
    # room screen's per-second countdown takes the door's loop for about a second, and the offer waits behind it).
    near_config = door_config(output="drm", extra=media_section("v4l2").replace("media:\n", f"media:\n  camera_device: {camera}\n"))
    near_config = near_config.replace("media:\n  camera: test\n", "")
    # The code alone lets the caller in: under emulation an ANSWER press comes after the far end's 30 s dial
    # timeout (the buttons are tested in test_buttons.py).
    near_config = near_config.replace("door:\n", "door:\n  knocks_need_answer: false\n")
    # ICE and DTLS are slow emulated: the default 20 s to a candidate pair ended the call before it connected.
    slow_ice = "ice:\n  connect_timeout: 120\n"
    near_config += slow_ice + "log:\n  level: debug\n"
    near = start_door(near_config)
    port = int(re.search(r"listen: 127\.0\.0\.1:(\d+)", near_config).group(1))
    events = near.events()
    press(pi_chip, DOORBELL)
    next_event(events, lambda e: e.get("event") == "room-opened", "room-opened")
    knock_peer = near.state()["room"]["knockPeerId"]

    # The far end waits longer for its answer than a door does by default: under emulation building its own
    # pipeline and offer took 11 s to over 30 s (the DTLS key, the encoder), before the offer even left.
    far_config = (f"door:\n  name: Far end\n  answer_timeout: {int(CALL_TIMEOUT)}\nsignaling:\n  listen: 'off'\n  server: ws://127.0.0.1:{port}\n"
                  f"web:\n  base: http://127.0.0.1:{port}\npaths:\n  state: @WORKDIR@/state\n"
                  "display:\n  output: snapshot\n  snapshots_per_second: 0\n" + media_section("test") + slow_ice + "log:\n  level: debug\n")
    far = start_door(far_config)
    # Both ends registered with the near door's server before the far end dials.
    poll(lambda: f"{knock_peer} registered" in near.log_text(), 60, message=near.log_text)
    poll(lambda: "registered on ws://" in far.log_text(), 60, message=far.log_text)
    dialled = time.time()  # the door's log stamps are wall-clock seconds
    answer = far.control({"cmd": "call", "peer": knock_peer, "name": "Far end"}, timeout=60)
    assert answer.get("ok") is True, answer

    def far_frames():
        try:
            call = far.state().get("call") or {}
        except TimeoutError:  # under emulation the far end's loop can be busy building its pipeline
            return None
        return call if call.get("videoFramesDecoded", 0) >= 10 else None

    try:
        call = poll(far_frames, CALL_TIMEOUT, interval=1.0,
                    message=lambda: f"the far end decoded no frames: {far.state()}\n{near.log_text()[-3000:]}")
    finally:
        shutil.copy(near.log_path, RESULTS / "camera-near-door.log")
        shutil.copy(far.log_path, RESULTS / "camera-far-door.log")
    assert (call["videoWidth"], call["videoHeight"]) == (WIDTH, HEIGHT), call
    assert f"v4l2src device={camera}" in near.log_text(), near.log_text()
    answered = float(re.search(r"\[([\d.]+)\] info media: answering", near.log_text()).group(1))
    report(f"camera: the far end decoded {call['videoFramesDecoded']:.0f} frames of vivid's {WIDTH}x{HEIGHT} "
           f"picture from {camera}; the near door answered {answered - dialled:.1f} s after the far end dialled")

    # Unplug the camera mid-call: vivid's device leaves its driver (as a USB camera pulled out would).
    events = near.events()
    device = unbind_vivid()
    try:
        ended = next_event(events, lambda e: e.get("event") == "call-ended", "the call ending after the unplug")
        assert ended["by"] == "failed", ended
        poll(lambda: near.state()["call"] is None, 60, message=lambda: f"still in a call: {near.state()}")
        assert near.state()["lastCall"]["endedBy"] == "failed", near.state()
        why = next((line for line in near.log_text().splitlines() if "ended (failed)" in line), None)
        assert why and "v4l2src" in why, near.log_text()[-3000:]
        report(f"camera unplugged mid-call: {why.split('] ', 1)[-1]}")
    finally:
        shutil.copy(near.log_path, RESULTS / "camera-near-door.log")
        rebind_vivid(device)
    # The door keeps serving: a new ring opens (or rings) a room.
    events = near.events()
    press(pi_chip, DOORBELL)
    next_event(events, lambda e: e.get("event") in ("room-opened", "room-rang"), "a ring after the unplug")
    assert near.process.poll() is None, near.log_text()


VIVID = Path("/sys/bus/platform/drivers/vivid")


def unbind_vivid():
    device = next(p.name for p in VIVID.iterdir() if p.name.startswith("vivid."))
    (VIVID / "unbind").write_text(device)
    return device


def rebind_vivid(device):
    (VIVID / "bind").write_text(device)
    poll(lambda: glob.glob("/dev/video*"), 30, message="vivid's /dev/video node never came back")
