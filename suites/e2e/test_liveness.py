"""Peers that vanish without a word: the caller's whole Chromium is SIGKILLed mid-call (no close, no LEAVE, no
DTLS close_notify, exactly a phone whose battery died), in a call the door answered and in one it placed. The
door must end the call as "lost" within the bound docs/liveness.md gives, say so on its screen and in its
state and events, and take the next ring.
"""

import os
import signal
import time
from pathlib import Path

import pytest

from selenium.webdriver.common.by import By

from conftest import _ip, _start_browser
from polling import poll
from test_call import (CALL_TIMEOUT, check_device_media_rises, click, join, page_test_hooks, ring,
                       wait_device_idle, wait_page_state)
from test_chat import next_event
from test_dial import open_page

SILENCE_LIMIT_MS = 5000  # media.lost_after_seconds' default (MediaSettings.lostAfterMillis)
CHECK_EVERY_MS = 250  # PeerArrivals.checkEveryMillis
# Kill → "lost": the silence limit, one check period, and the GLib loop's slack on a loaded 2-core machine.
LOST_BOUND_MS = SILENCE_LIMIT_MS + CHECK_EVERY_MS + 1500


def _children():
    """{ppid: [pid, ...]} for every process now."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def kill_browser(driver):
    """SIGKILL Chromium and every process it started (renderers, network service), leaving chromedriver:
    the page gets no chance to say goodbye. Returns the wall-clock milliseconds of the kill."""
    children = _children()
    tree, todo = [], list(children.get(driver.service.process.pid, []))
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    assert tree, "chromedriver has no Chromium process to kill"
    killed_at = time.time() * 1000
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    poll(lambda: not any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in tree), 5,
         message="Chromium's processes outlived SIGKILL")
    return killed_at


def _state(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "Z"
    return stat[stat.rindex(")") + 2:].split()[0]


@pytest.fixture
def doomed_browser(netns, request, tmp_path):
    """A Chromium like `browser` that the test kills; teardown tolerates that it is gone."""
    driver = _start_browser(request, tmp_path / "chromedriver-doomed.log", " (killed)")
    try:
        yield driver
    finally:
        try:
            driver.quit()
        except Exception:  # noqa: BLE001 — its browser is dead by design; quit only reaps chromedriver
            driver.service.stop()


def wait_lost(device, events, killed_at, limit_ms=SILENCE_LIMIT_MS):
    """The call ends as lost within `limit_ms` + the slack of LOST_BOUND_MS of the kill, on the screen, in the
    events and in lastCall; returns lastCall. `events` was opened before the call: it connected exactly once
    (ICE state changes within the call are not new connections)."""
    bound_ms = limit_ms + LOST_BOUND_MS - SILENCE_LIMIT_MS
    seen = []
    ended = next_event(events, lambda e: seen.append(e) or e.get("event") == "call-ended", 60)
    assert ended["by"] == "lost", ended
    connected = [e for e in seen if e.get("event") == "call-connected"]
    assert len(connected) == 1, f"call-connected {len(connected)} times in one call: {seen}"
    screen = next_event(events, lambda e: e.get("event") == "screen" and e.get("screen") == "ended", 5)
    assert screen["reason"] == "Connection lost", screen
    last_call = device.state()["lastCall"]
    assert last_call["endedBy"] == "lost", last_call
    after_kill = last_call["endedAt"] - killed_at
    silence = last_call["lostAfterSilenceMillis"]
    print(f"lost {after_kill:.0f} ms after the kill, {silence} ms after the last packet")
    assert limit_ms <= silence < bound_ms, last_call
    assert 0 < after_kill < bound_ms, f"the door gave up {after_kill:.0f} ms after the kill: {last_call}"
    return last_call


def check_next_ring_works(device, more_browsers):
    """After the lost call the door is free: the doorbell opens a room and a new browser talks through it."""
    wait_device_idle(device)
    link = ring(device)
    other = more_browsers()
    join(other, link)
    check_device_media_rises(device)
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    wait_device_idle(device)


def test_a_caller_killed_in_an_answered_call_is_lost(device, doomed_browser, more_browsers):
    link = ring(device)
    events = device.events(timeout=60)
    join(doomed_browser, link)
    check_device_media_rises(device)
    killed_at = kill_browser(doomed_browser)
    wait_lost(device, events, killed_at)
    check_next_ring_works(device, more_browsers)


def test_a_page_killed_in_a_call_the_door_placed_is_lost(device, doomed_browser, more_browsers):
    peer = open_page(doomed_browser, device)
    events = device.events(timeout=60)
    assert device.control({"cmd": "call", "peer": peer}).get("ok") is True
    wait_page_state(doomed_browser, "incoming", CALL_TIMEOUT)
    click(doomed_browser, "answer")
    wait_page_state(doomed_browser, "in-call", CALL_TIMEOUT)
    check_device_media_rises(device)
    killed_at = kill_browser(doomed_browser)
    wait_lost(device, events, killed_at)
    check_next_ring_works(device, more_browsers)


def test_the_page_says_the_door_is_gone_when_its_network_is_cut(netns, device, browser):
    """Both veths down: no packet between the page and the door (their signaling, on loopback, stays). The
    page ends the call as connection-lost and says so in words; the door lets the call go too."""
    link = ring(device)
    join(browser, link)
    check_device_media_rises(device)
    try:
        cut_at = time.time() * 1000
        for veth in ("v0", "v1"):
            _ip("-n", netns.name, "link", "set", veth, "down")
        hooks = poll(lambda: (h := page_test_hooks(browser)) and h.get("endedAt") and h, LOST_BOUND_MS / 1000 + 5,
                     message=lambda: f"the page never noticed the door was gone: {page_test_hooks(browser)}")
        assert hooks["endReason"] == "connection-lost" and hooks["endedBy"] == "remote", hooks
        assert hooks["endedAt"] - cut_at < LOST_BOUND_MS, (hooks, cut_at)
        status = browser.find_element(By.ID, "status").text
        assert "Connection lost: the door stopped answering" in status, status
        last_call = poll(lambda: device.state()["lastCall"], LOST_BOUND_MS / 1000 + 5,
                         message=lambda: f"the door never ended the cut call: {device.state()}")
        # The door hears the same silence and gives up as "lost" — unless the page's own end, told over the
        # signaling that still works, reaches it first ("remote"). Either way the door is free again.
        assert last_call["endedBy"] in ("lost", "remote"), last_call
    finally:
        for veth in ("v0", "v1"):
            _ip("-n", netns.name, "link", "set", veth, "up")
        # As at the namespace's start: let IPv6 duplicate address detection finish before any page loads.
        poll(lambda: not _ip("-n", netns.name, "-6", "addr", "show", "tentative").strip(), 10,
             message="the namespace's IPv6 addresses stayed tentative")
    wait_device_idle(device)


def test_the_silence_limit_is_the_config_setting(start_device, doomed_browser, tmp_path):
    """`media.lost_after_seconds: 3` ends a killed caller's call after 3 s of silence, not the default 5."""
    config = tmp_path / "intercom.yaml"
    config.write_text("media:\n  lost_after_seconds: 3\n")
    device = start_device("--config", str(config))
    link = ring(device)
    events = device.events(timeout=60)
    join(doomed_browser, link)
    check_device_media_rises(device)
    killed_at = kill_browser(doomed_browser)
    last_call = wait_lost(device, events, killed_at, limit_ms=3000)
    assert last_call["lostAfterSilenceMillis"] < SILENCE_LIMIT_MS, last_call
