"""The door's buttons and the call state machine, end to end: knocks answered and declined with the simulated
buttons, the microphone muted (measured as audio energy in Chromium), a second caller refused as busy.

The knock tests run the device with its own defaults (@pytest.mark.device_args()): a caller with only the
room code (the join link without its #k= secret) is a knock that waits for ANSWER.
"""

import subprocess
import time

import pytest

from polling import poll
from test_call import (CALL_TIMEOUT, PAGE_TIMEOUT, check_browser_video_rises, check_device_media_rises, click,
                       join, page_state, page_test_hooks, remote_video, ring, wait_page_state)

KNOCK_TIMEOUT = 10.0  # OFFER → the device shows the knock
REFUSAL_TIMEOUT = 5.0  # DECLINE / busy → the page shows the call ended
QUIET_WINDOW = 2.0  # how long "nothing happens" is watched


def press(device, button, long=False):
    assert device.control({"cmd": "press", "button": button, "long": long}) == {"ok": True}


def without_secret(link):
    """What a person who typed the code has: the link without its #k= fragment."""
    return link.split("#")[0]


def call_door(browser, link):
    """Open the join link and press Join; the page sends its OFFER and waits."""
    browser.get(link)
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    click(browser, "join")
    wait_page_state(browser, "calling", 5)


def wait_knock(device, browser):
    """The device holds the page's offer as a knock; returns state.pending."""
    pending = poll(lambda: (s := device.state())["phase"] == "knock" and s["pending"], KNOCK_TIMEOUT,
                   message=lambda: f"the device shows no knock: {device.state()}")
    hooks = page_test_hooks(browser)
    assert pending["peer"] == hooks["peerId"] and pending["connectionId"] == hooks["connectionId"], (pending, hooks)
    assert pending["proved"] is False, pending
    return pending


def holds_for(check, seconds, interval=0.1):
    """check() stays true for `seconds`; returns the first falsy value otherwise (None when it held)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if not value:
            return value
        time.sleep(interval)
    return None


def screen_text(path):
    result = subprocess.run(["tesseract", str(path), "-"], capture_output=True, text=True)
    return " ".join(result.stdout.split()).upper()


def check_knock_screen(device):
    """The door's screen (the newest snapshot) tells the person there what to do."""
    snapshots = device.snapshots
    shot = poll(lambda: sorted(snapshots.glob("screen-*-knock.png"))[-1:], 5,
                message=lambda: f"no knock screen among {sorted(p.name for p in snapshots.iterdir())}")[0]
    text = screen_text(shot)
    assert "PRESS ANSWER TO TALK" in text and "DECLINE TO REFUSE" in text, f"{shot.name} reads {text!r}"


PC_STATS_JS = """
const done = arguments[arguments.length - 1];
const video = document.getElementById('remote');
const stream = video && video.srcObject;
// The page keeps its RTCPeerConnection private; the remote stream's receivers are reachable through a probe
// the test installs before the call (window.__pcs).
const pcs = window.__pcs || [];
Promise.all(pcs.map((pc) => pc.getStats())).then((reports) => {
  const out = {audioEnergy: null, audioBytes: 0, videoBytes: 0, audioSamples: null};
  for (const report of reports) {
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'audio') {
        out.audioEnergy = (out.audioEnergy || 0) + (s.totalAudioEnergy || 0);
        out.audioSamples = (out.audioSamples || 0) + (s.totalSamplesDuration || 0);
        out.audioBytes += s.bytesReceived || 0;
      } else if (s.kind === 'video') {
        out.videoBytes += s.bytesReceived || 0;
      }
    });
  }
  done(out);
}).catch((e) => done({error: String(e)}));
"""

# Keeps every RTCPeerConnection the page makes, so the test can read its inbound statistics.
PC_PROBE_JS = """
window.__pcs = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) { const pc = new Native(...args); window.__pcs.push(pc); return pc; };
window.RTCPeerConnection.prototype = Native.prototype;
"""


def install_pc_probe(browser):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PC_PROBE_JS})


def inbound(browser):
    stats = browser.execute_async_script(PC_STATS_JS)
    assert "error" not in stats, stats
    return stats


def audio_power(browser, seconds):
    """Mean power of the received audio over `seconds`: Δ totalAudioEnergy / Δ totalSamplesDuration."""
    first = inbound(browser)
    time.sleep(seconds)  # a measuring window, not a wait for a condition
    second = inbound(browser)
    assert first["audioEnergy"] is not None, f"no inbound audio: {second}"
    duration = second["audioSamples"] - first["audioSamples"]
    assert duration > 0.5 * seconds, f"audio stopped playing out: {first} → {second}"
    return (second["audioEnergy"] - first["audioEnergy"]) / duration


# --- tests -----------------------------------------------------------------------------------------------


@pytest.mark.device_args()
def test_knock_waits_for_answer_then_media_flows(device, browser):
    install_pc_probe(browser)
    link = ring(device)
    call_door(browser, without_secret(link))
    wait_knock(device, browser)
    check_knock_screen(device)

    # Nothing is answered before ANSWER: no call on the device, no media at the page.
    broke = holds_for(lambda: (s := device.state())["phase"] == "knock" and s["call"] is None
                      and page_state(browser) == "calling" and inbound(browser)["videoBytes"] == 0
                      and inbound(browser)["audioBytes"] == 0, QUIET_WINDOW)
    assert broke is None, f"something happened before ANSWER: {device.state()} {inbound(browser)}"
    assert (s := device.state())["admission"]["callSessionsCreated"] == 0, s  # no media object was made

    press(device, "answer")
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    poll(lambda: (v := remote_video(browser)) and v["width"] > 0, 10,
         message=lambda: f"<video id=remote> has no picture: {remote_video(browser)}")
    check_browser_video_rises(browser)
    check_device_media_rises(device)
    assert device.state()["call"]["connected"] is True


@pytest.mark.device_args()
def test_knock_declined_ends_the_page_call_and_the_room_keeps_ringing(device, browser):
    install_pc_probe(browser)
    link = ring(device)
    call_door(browser, without_secret(link))
    wait_knock(device, browser)

    press(device, "decline")
    wait_page_state(browser, "ended", REFUSAL_TIMEOUT)
    hooks = page_test_hooks(browser)
    assert hooks["endedBy"] == "remote" and hooks["endReason"] == "declined", hooks
    status = browser.execute_script("return document.getElementById('status').textContent;")
    assert "declined" in status, status
    assert inbound(browser)["videoBytes"] == 0, "the page got media from a declined knock"

    state = device.state()
    assert state["phase"] == "room" and state["pending"] is None and state["call"] is None, state
    assert state["lastCall"] is None, state
    assert (s := device.state())["admission"]["callSessionsCreated"] == 0, s  # no media object was made


@pytest.mark.device_args()
def test_long_decline_refuses_the_knock_and_closes_the_room(device, browser):
    link = ring(device)
    call_door(browser, without_secret(link))
    wait_knock(device, browser)

    press(device, "decline", long=True)
    wait_page_state(browser, "ended", REFUSAL_TIMEOUT)
    hooks = page_test_hooks(browser)
    assert hooks["endedBy"] == "remote" and hooks["endReason"] == "declined", hooks
    poll(lambda: (s := device.state())["phase"] == "idle" and s["room"] is None, 10,
         message=lambda: f"the room did not close after a long DECLINE: {device.state()}")
    assert (s := device.state())["admission"]["callSessionsCreated"] == 0, s  # no media object was made


def test_mute_silences_the_device_microphone(device, browser):
    install_pc_probe(browser)
    link = ring(device)
    join(browser, link)
    check_device_media_rises(device)

    before = audio_power(browser, 1.5)
    assert before > 1e-4, f"the door's test tone does not reach the page (power {before})"

    press(device, "mute")
    assert device.state()["call"]["muted"] is True
    # The jitter buffer still holds a moment of tone: wait for the power to fall, then measure.
    poll(lambda: audio_power(browser, 0.5) < before / 1000, 5,
         message="the page still hears the door after mute")
    muted = audio_power(browser, 1.5)

    press(device, "mute")
    assert device.state()["call"]["muted"] is False
    poll(lambda: audio_power(browser, 0.5) > before / 2, 5, message="the door's sound did not come back after unmute")
    print(f"audio power at the page: {before:.3g} before mute, {muted:.3g} muted "
          f"({before / max(muted, 1e-12):.0f}x lower)")
    assert muted < before / 1000, f"muted power {muted} is not far below {before}"
    assert device.state()["phase"] == "in-call"


def test_second_caller_during_a_call_is_refused_busy(device, browser, more_browsers):
    second_browser = more_browsers()
    link = ring(device)
    join(browser, link)
    check_device_media_rises(device)
    first = device.state()["call"]

    install_pc_probe(second_browser)
    call_door(second_browser, link)
    wait_page_state(second_browser, "ended", REFUSAL_TIMEOUT)
    hooks = page_test_hooks(second_browser)
    assert hooks["endedBy"] == "remote" and hooks["endReason"] == "busy", hooks
    assert inbound(second_browser)["videoBytes"] == 0, "the second caller got media"

    # The first call goes on, both ways.
    state = device.state()
    assert state["call"]["connectionId"] == first["connectionId"], state
    check_browser_video_rises(browser)
    check_device_media_rises(device)
    assert (s := device.state())["admission"]["callSessionsCreated"] == 1, s  # none for the second caller
