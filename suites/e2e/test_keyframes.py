"""Keyframes the door forces itself: a steady call of a quarter of a minute connects once and the door asks its
encoder for a keyframe once or twice (when ICE first connects), not on every ICE state change (issue 22,
item 5). Keyframes the browser asks for (PLI/FIR) are counted apart and not limited here.
"""

import time

from polling import poll
from test_call import check_device_media_rises, join, ring, wait_device_idle
from test_chat import next_event

CALL_SECONDS = 16  # the length of call in which the door used to emit a dozen call-connected events


def test_a_steady_call_connects_once_and_forces_at_most_two_keyframes(device, browser):
    link = ring(device)
    events = device.events(timeout=60)
    join(browser, link)
    check_device_media_rises(device)
    started = time.monotonic()

    def call_held_long_enough():
        call = device.state()["call"]
        assert call is not None and call["connected"], f"the call ended or dropped early: {device.state()}"
        return time.monotonic() - started >= CALL_SECONDS and call

    call = poll(call_held_long_enough, CALL_SECONDS + 10, interval=1)
    forced, requested, sent = call["keyframesForced"], call["keyframeRequests"], call["keyframesSent"]
    print(f"{CALL_SECONDS} s call: the door forced {forced} keyframes; {requested} requests reached the "
          f"encoder, {sent} keyframes sent")
    assert 1 <= forced <= 2, call

    assert device.control({"cmd": "hangup"}) == {"ok": True}
    seen = []
    next_event(events, lambda e: seen.append(e) or e.get("event") == "call-ended", 30)
    connected = [e for e in seen if e.get("event") == "call-connected"]
    assert len(connected) == 1, f"call-connected {len(connected)} times in one call: {seen}"
    wait_device_idle(device)
