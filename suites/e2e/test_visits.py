"""The visit log with the real door (docs/visits.md): a press is a visit in `intercom ctl visits`, a missed
visit's clip is fragmented MP4 cut from the door's own encoded stream that gst-discoverer-1.0 demuxes and that
decodes, a SIGKILL mid-recording leaves a clip that still plays and a log that loads after the restart, delete
removes the file and the entry, and the age bound prunes an old visit with its clip at start. A paired page
(real Chromium) lists the visits, plays the clip it fetched over its proved data connection (decoded frames
counted) and deletes it; a page that cannot prove the pairing gets nothing.
"""

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from polling import poll
from test_call import CALL_TIMEOUT, PAGE_TIMEOUT, click, page_test_hooks, wait_page_state
from test_pairing import pair_page
from test_web_client import phone, screenshot

CLIP_TIMEOUT = 40.0  # the warm pipeline starts once the room registers, then a few seconds of clip
VISIT_ID = re.compile(r"^[0-9a-f]{12}$")


def visits_config(tmp_path, **visits):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    config = tmp_path / "intercom.yaml"
    lines = [f"paths:\n  state: {state}", "visits:"] + [f"  {key}: {value}" for key, value in visits.items()]
    config.write_text("\n".join(lines) + "\n")
    return config, state


def visits(device):
    reply = device.control({"cmd": "visits"})
    assert reply.get("ok") is True, reply
    return reply["visits"]


def next_event(events, kind, **fields):
    for event in events:
        if event.get("event") == kind and all(event.get(k) == v for k, v in fields.items()):
            return event
    raise AssertionError(f"the event stream ended before a {kind} {fields} event")


def discover(path):
    """gst-discoverer-1.0's view of a file: (seconds, text), or fails the test when it cannot demux it."""
    result = subprocess.run(["gst-discoverer-1.0", str(path)], capture_output=True, text=True, timeout=60)
    text = result.stdout + result.stderr
    match = re.search(r"Duration: (\d+):(\d+):(\d+\.\d+)", text)
    assert result.returncode == 0 and match, f"gst-discoverer-1.0 cannot read {path}:\n{text}"
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds), text


def decoded_frames(path):
    """How many pictures a decodebin pipeline gets out of the file."""
    result = subprocess.run(["gst-launch-1.0", "-v", "filesrc", f"location={path}", "!", "decodebin", "!",
                             "video/x-raw", "!", "fakesink", "silent=false"],
                            capture_output=True, text=True, timeout=120)
    return result.stdout.count("chain   ******* (fakesink")


def ring_and_wait_for_clip(device, events):
    assert device.control({"cmd": "press", "button": "doorbell"}).get("ok") is True
    ringing = next_event(events, "visit", state="ringing")
    assert VISIT_ID.match(ringing["id"]), ringing
    next_event(events, "visit-clip", id=ringing["id"], state="recording")
    return ringing["id"]


def test_a_missed_visit_is_listed_with_a_clip_that_plays(start_device, tmp_path):
    config, state = visits_config(tmp_path, clip_seconds=3)
    device = start_device("--config", str(config))
    events = device.events(timeout=CLIP_TIMEOUT)
    visit = ring_and_wait_for_clip(device, events)
    done = next_event(events, "visit-clip", id=visit)
    assert done["state"] == "done" and done["frames"] >= 30, done
    # Nobody answers: DECLINE closes the room with no caller turned away, so the visit was missed.
    assert device.control({"cmd": "press", "button": "decline"}).get("ok") is True
    ended = next_event(events, "visit", id=visit)
    assert ended["state"] == "missed", ended

    listed = visits(device)
    assert [v["id"] for v in listed] == [visit], listed
    entry = listed[0]
    assert entry["outcome"] == "missed" and entry["by"] is None and entry["durationMs"] > 0, entry
    assert entry["clip"] == f"{visit}.mp4" and entry["clipBytes"] > 10_000, entry
    clip = state / "visits" / entry["clip"]
    assert clip.stat().st_size == entry["clipBytes"]
    assert clip.stat().st_mode & 0o777 == 0o600

    seconds, text = discover(clip)
    print(f"clip {clip.name}: {clip.stat().st_size} bytes, {seconds:.2f} s")
    assert "H.264" in text, text
    assert abs(seconds - 3) < 0.6, text
    assert decoded_frames(clip) >= 60

    # `intercom ctl visits` prints it for a person too.
    table = subprocess.run([str(device.binary), "ctl", "visits", "--control", str(device.control_path)],
                           capture_output=True, text=True, timeout=30)
    assert table.returncode == 0, table.stderr
    assert re.search(rf"^{visit}\t.*\tmissed\t-\t\d+\t{visit}\.mp4 \(\d+ kB\)$", table.stdout, re.M), table.stdout


def test_delete_removes_the_clip_and_the_entry(start_device, tmp_path):
    config, state = visits_config(tmp_path, clip_seconds=2)
    device = start_device("--config", str(config))
    events = device.events(timeout=CLIP_TIMEOUT)
    visit = ring_and_wait_for_clip(device, events)
    # While the visit goes on it cannot be deleted.
    busy = device.control({"cmd": "visits-delete", "id": visit})
    assert busy.get("ok") is False and busy.get("code") == "busy", busy
    next_event(events, "visit-clip", id=visit, state="done")
    assert device.control({"cmd": "press", "button": "decline"}).get("ok") is True
    next_event(events, "visit", id=visit, state="missed")
    clip = state / "visits" / f"{visit}.mp4"
    assert clip.exists()

    for bad in ["../visits.jsonl", "ABCDEF012345", ""]:
        refused = device.control({"cmd": "visits-delete", "id": bad})
        assert refused.get("ok") is False and refused.get("code") == "badID", (bad, refused)
    gone = subprocess.run([str(device.binary), "ctl", "visits", "--delete", visit, "--control", str(device.control_path)],
                          capture_output=True, text=True, timeout=30)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert not clip.exists()
    assert visits(device) == []
    missing = device.control({"cmd": "visits-delete", "id": visit})
    assert missing.get("ok") is False and missing.get("code") == "notFound", missing


def test_a_sigkill_while_recording_leaves_a_clip_that_plays_and_a_log_that_loads(start_device, tmp_path):
    config, state = visits_config(tmp_path, clip_seconds=60)
    device = start_device("--config", str(config))
    events = device.events(timeout=CLIP_TIMEOUT)
    visit = ring_and_wait_for_clip(device, events)
    clip = state / "visits" / f"{visit}.mp4"
    # A few fragments (one a second) on the card, then the power goes.
    poll(lambda: clip.exists() and clip.stat().st_size > 150_000, 30,
         message=lambda: f"the clip did not grow: {clip.stat().st_size if clip.exists() else 'absent'}")
    device.process.send_signal(signal.SIGKILL)
    device.process.wait(10)
    size = clip.stat().st_size
    seconds, text = discover(clip)
    print(f"killed clip: {size} bytes, {seconds:.2f} s (as the moov says)")
    assert "H.264" in text, text
    assert decoded_frames(clip) >= 30

    again = start_device("--config", str(config))
    listed = visits(again)
    assert [v["id"] for v in listed] == [visit], listed
    # Open at the power cut: no outcome, no duration; the clip stays listed.
    assert listed[0]["outcome"] is None and listed[0]["durationMs"] is None, listed[0]
    assert listed[0]["clip"] == clip.name and listed[0]["clipBytes"] == size, listed[0]
    # And the log takes new visits after the cut.
    events = again.events(timeout=CLIP_TIMEOUT)
    assert again.control({"cmd": "press", "button": "doorbell"}).get("ok") is True
    second = next_event(events, "visit", state="ringing")["id"]
    assert [v["id"] for v in visits(again)] == [second, visit]


def test_the_age_bound_prunes_an_old_visit_and_its_clip_at_start(start_device, tmp_path):
    config, state = visits_config(tmp_path, max_age_days=7)
    directory = state / "visits"
    directory.mkdir(mode=0o700)
    now = int(time.time() * 1000)
    old, recent = "0123456789ab", "ba9876543210"
    lines = [
        {"at": now - 30 * 86_400_000, "e": "ring", "id": old, "seq": 1},
        {"e": "clip", "file": f"{old}.mp4", "id": old},
        {"duration_ms": 5000, "e": "end", "id": old, "outcome": "missed"},
        {"at": now - 86_400_000, "e": "ring", "id": recent, "seq": 2},
        {"e": "clip", "file": f"{recent}.mp4", "id": recent},
        {"duration_ms": 7000, "e": "end", "id": recent, "outcome": "missed"},
    ]
    (directory / "visits.jsonl").write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
    (directory / f"{old}.mp4").write_bytes(b"\0" * 1000)
    (directory / f"{recent}.mp4").write_bytes(b"\0" * 1000)
    device = start_device("--config", str(config))
    listed = visits(device)
    assert [v["id"] for v in listed] == [recent], listed
    assert not (directory / f"{old}.mp4").exists()
    assert (directory / f"{recent}.mp4").exists()


def test_visits_off_keeps_nothing(start_device, tmp_path):
    config, state = visits_config(tmp_path, enabled="false")
    device = start_device("--config", str(config))
    events = device.events(timeout=CLIP_TIMEOUT)
    assert device.control({"cmd": "press", "button": "doorbell"}).get("ok") is True
    next_event(events, "room-opened")
    reply = device.control({"cmd": "visits"})
    assert reply.get("ok") is False and "visits.enabled" in reply["error"], reply
    assert not (state / "visits").exists()


# --- the paired page -------------------------------------------------------------------------------------

def visit_hooks(driver):
    return (page_test_hooks(driver) or {}).get("visits") or {}


def open_visit_list(driver, visit):
    click(driver, "visits-open")
    return poll(lambda: (hooks := visit_hooks(driver)).get("state") == "open"
                and any(v["id"] == visit for v in hooks.get("visits", [])) and hooks,
                PAGE_TIMEOUT, message=lambda: f"the page's visit list never showed {visit}: {visit_hooks(driver)}")


def paired_device_rung(start_device, browser, tmp_path, name, clip_seconds, **config):
    """A door with visits on and a page paired as `name`; the bell rung and the clip started.
    Returns (device, events, visit id, state folder)."""
    config_path, state = visits_config(tmp_path, clip_seconds=clip_seconds, **config)
    device = start_device("--config", str(config_path))
    pair_page(device, browser, name)
    events = device.events(timeout=CLIP_TIMEOUT)
    return device, events, ring_and_wait_for_clip(device, events), state


def test_a_paired_page_lists_plays_and_deletes_a_missed_visit(start_device, browser, tmp_path):
    phone(browser)
    device, events, visit, state = paired_device_rung(start_device, browser, tmp_path, "Anna's phone", 3)
    next_event(events, "visit-clip", id=visit, state="done")
    # The paired page is rung; nobody answers and DECLINE closes the room.
    assert device.control({"cmd": "press", "button": "decline"}).get("ok") is True
    next_event(events, "visit", id=visit, state="missed")
    clip = state / "visits" / f"{visit}.mp4"

    listed = open_visit_list(browser, visit)
    assert listed["visits"][0] == {"id": visit, "outcome": "missed", "clip": clip.name}, listed
    row = browser.find_element(By.CSS_SELECTOR, f'li[data-visit="{visit}"]')
    assert "Missed" in row.text, row.text
    row.find_element(By.CSS_SELECTOR, ".visit-play").click()
    played = poll(lambda: visit_hooks(browser).get("played"), PAGE_TIMEOUT,
                  message=lambda: f"the clip never arrived: {visit_hooks(browser)}")
    # Every byte of the file, fetched in chunks over the data connection.
    assert played == {"id": visit, "bytes": clip.stat().st_size}, played
    frames = poll(lambda: (n := browser.execute_script(
        "const v = document.getElementById('visits-player');"
        " return v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;")) >= 30 and n,
        PAGE_TIMEOUT, message=lambda: "the page decoded fewer than 30 frames of the clip: " + json.dumps(
            browser.execute_script("const v = document.getElementById('visits-player'); return {error: v.error &&"
                                   " v.error.message, state: v.readyState, time: v.currentTime,"
                                   " frames: v.getVideoPlaybackQuality().totalVideoFrames};")))
    size = browser.execute_script("const v = document.getElementById('visits-player');"
                                  " return [v.videoWidth, v.videoHeight];")
    print(f"page decoded {frames} frames of {clip.name}, {size[0]}x{size[1]}")
    assert size[0] > 0 and size[1] > 0
    browser.execute_script("document.getElementById('visits-player').scrollIntoView({block: 'end'});")
    screenshot(browser, "visits")

    row.find_element(By.CSS_SELECTOR, ".visit-delete").click()
    poll(lambda: visit_hooks(browser).get("deleted") == visit, PAGE_TIMEOUT,
         message=lambda: f"the page never heard the delete: {visit_hooks(browser)}")
    poll(lambda: visit_hooks(browser).get("visits") == [], 5, message=lambda: f"still listed: {visit_hooks(browser)}")
    assert not clip.exists()
    assert visits(device) == []


def test_a_page_without_the_pairing_credential_gets_no_visits(start_device, browser, tmp_path):
    device, events, visit, state = paired_device_rung(start_device, browser, tmp_path, "Stolen phone", 2)
    next_event(events, "visit-clip", id=visit, state="done")
    # The page keeps its id but its credential is wrong: it cannot prove the pairing.
    browser.execute_script("const s = JSON.parse(localStorage.getItem('intercom.pairing'));"
                           " s.credential = 'A'.repeat(43); localStorage.setItem('intercom.pairing', JSON.stringify(s));")
    browser.refresh()
    poll(lambda: (page_test_hooks(browser) or {}).get("signaling") == "open", PAGE_TIMEOUT, message="no signaling")
    click(browser, "visits-open")
    refused = next_event(events, "visits-link")
    assert refused["result"] == "refused", refused
    poll(lambda: visit_hooks(browser).get("state") == "closed", PAGE_TIMEOUT,
         message=lambda: f"the page's visits link stayed open: {visit_hooks(browser)}")
    assert "visits" not in visit_hooks(browser) or visit_hooks(browser)["visits"] == []


def test_a_visit_answered_on_a_paired_page_names_it_and_keeps_the_ring_clip(start_device, browser, tmp_path):
    device, events, visit, state = paired_device_rung(start_device, browser, tmp_path, "Anna's phone", 30)
    poll(lambda: ((page_test_hooks(browser) or {}).get("ring") or {}).get("state") == "ringing", CLIP_TIMEOUT,
         message=lambda: f"the paired page did not ring: {page_test_hooks(browser)}")
    click(browser, "ring-answer")
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    # Without visits.record_calls the clip ends at the answer: it shows the ring, not the conversation.
    done = next_event(events, "visit-clip", id=visit)
    assert done["state"] == "done" and done["frames"] > 0, done
    assert device.control({"cmd": "hangup"}).get("ok") is True
    ended = next_event(events, "visit", id=visit)
    assert ended["state"] == "answered", ended

    entry = visits(device)[0]
    assert entry["id"] == visit and entry["outcome"] == "answered", entry
    assert entry["by"] == "paired" and entry["byName"] == "Anna's phone", entry
    assert entry["durationMs"] > 0 and entry["clip"] == f"{visit}.mp4", entry
    seconds, text = discover(state / "visits" / entry["clip"])
    assert "H.264" in text and seconds < 30, text


def test_the_size_bound_drops_the_oldest_clip_and_keeps_its_visit(start_device, tmp_path):
    config, state = visits_config(tmp_path, clip_seconds=3, max_bytes=1_000_000)
    directory = state / "visits"
    directory.mkdir(mode=0o700)
    now = int(time.time() * 1000)
    old = "0123456789ab"
    lines = [
        {"at": now - 3_600_000, "e": "ring", "id": old, "seq": 1},
        {"e": "clip", "file": f"{old}.mp4", "id": old},
        {"duration_ms": 5000, "e": "end", "id": old, "outcome": "missed"},
    ]
    (directory / "visits.jsonl").write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
    (directory / f"{old}.mp4").write_bytes(b"\0" * 990_000)
    device = start_device("--config", str(config))
    assert visits(device)[0]["clip"] == f"{old}.mp4"  # under the bound until a new clip comes

    events = device.events(timeout=CLIP_TIMEOUT)
    visit = ring_and_wait_for_clip(device, events)
    next_event(events, "visit-clip", id=visit, state="done")
    listed = {v["id"]: v for v in visits(device)}
    assert listed[visit]["clip"] == f"{visit}.mp4", listed
    assert listed[old]["clip"] is None and listed[old]["outcome"] == "missed", listed
    assert not (directory / f"{old}.mp4").exists()
    assert device.control({"cmd": "visits"})["bytes"] <= 1_000_000


def test_a_room_closed_during_the_recording_leaves_a_finished_clip(start_device, tmp_path):
    config, state = visits_config(tmp_path, clip_seconds=60)
    device = start_device("--config", str(config))
    events = device.events(timeout=CLIP_TIMEOUT)
    pressed_at = time.monotonic()
    visit = ring_and_wait_for_clip(device, events)
    clip = state / "visits" / f"{visit}.mp4"
    poll(lambda: clip.exists() and clip.stat().st_size > 80_000, 30, message="the clip did not grow")
    declined_at = time.monotonic()
    assert device.control({"cmd": "press", "button": "decline"}).get("ok") is True
    done = next_event(events, "visit-clip", id=visit)
    assert done["state"] == "done", done
    seconds, text = discover(clip)
    frames = decoded_frames(clip)
    # Measured, not asserted: how long after the press the clip's first picture is (press to DECLINE, less
    # the clip's length; DECLINE ends the clip at once).
    print(f"closed mid-clip: {seconds:.2f} s, {frames} frames decoded, {done['frames']} recorded; the clip starts "
          f"{declined_at - pressed_at - seconds:.2f} s after the press")
    # Finished by EOS before the pipeline stopped: the header has the whole length, not a first fragment's.
    assert abs(seconds - done["frames"] / 30) < 1.0, (seconds, done)


def answered_visit(device, browser, events, talk_seconds):
    """Rings, answers on the paired page, talks, hangs up; returns (visit id, the clip's done event)."""
    visit = ring_and_wait_for_clip(device, events)
    poll(lambda: ((page_test_hooks(browser) or {}).get("ring") or {}).get("state") == "ringing", CLIP_TIMEOUT,
         message=lambda: f"the paired page did not ring: {page_test_hooks(browser)}")
    click(browser, "ring-answer")
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    connected_at = time.monotonic()
    poll(lambda: time.monotonic() - connected_at > talk_seconds, talk_seconds + 5)
    assert device.control({"cmd": "hangup"}).get("ok") is True
    seen = {}
    for event in events:  # the visit's end and its clip's, in either order
        if event.get("id") == visit and event.get("event") == "visit-clip" and event["state"] != "recording":
            seen["clip"] = event
        if event.get("id") == visit and event.get("event") == "visit" and event["state"] == "answered":
            seen["visit"] = event
        if len(seen) == 2:
            break
    return visit, seen["clip"]


def test_record_calls_keeps_the_whole_call_with_the_callers_audio(start_device, browser, tmp_path):
    config, state = visits_config(tmp_path, clip_seconds=2, record_calls="true", call_max_seconds=60)
    device = start_device("--config", str(config))
    pair_page(device, browser, "Anna's phone")
    events = device.events(timeout=CLIP_TIMEOUT)
    # The door expects Chromium's payload types before it has seen any offer, so already the first call takes
    # the room's warm pipeline and its recording runs on through the call (docs/visits.md#recording-calls; a
    # browser that numbers its codecs differently would get its first call's clip `cut` at the answer).
    first, first_done = answered_visit(device, browser, events, talk_seconds=3)
    first_seconds, first_text = discover(state / "visits" / f"{first}.mp4")
    print(f"first call's recording: {first_done}, {first_seconds:.2f} s")
    assert first_done["state"] == "done" and first_seconds > 3, (first_done, first_text)
    assert "H.264" in first_text and "Opus" in first_text, first_text
    # And so does every later call from it.
    visit, done = answered_visit(device, browser, events, talk_seconds=5)
    clip = state / "visits" / f"{visit}.mp4"
    seconds, text = discover(clip)
    print(f"call recording: {seconds:.2f} s, {done['frames']} frames\n{text}")
    assert done["state"] == "done" and seconds > 5, (done, text)
    assert "H.264" in text and "Opus" in text, text
    assert decoded_frames(clip) > 5 * 25


VP8_ONLY_JS = """
const createOffer = RTCPeerConnection.prototype.createOffer;
RTCPeerConnection.prototype.createOffer = function (...args) {
  const vp8 = RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => c.mimeType === 'video/VP8');
  for (const transceiver of this.getTransceivers()) {
    if (transceiver.receiver.track.kind === 'video') transceiver.setCodecPreferences(vp8);
  }
  return createOffer.apply(this, args);
};
"""


def test_a_call_on_its_own_pipeline_keeps_the_ring_clip_and_is_not_recorded(start_device, browser, tmp_path):
    # A browser that offers only VP8 cannot take the room's warm H.264 pipeline: its call builds its own, which
    # stops the warm one with the ring's clip in it. The call is not recorded (docs/visits.md#recording-calls);
    # the ring's clip is finished before its pipeline stops, so it plays although it is shorter than a second's
    # fragment, and it does not run on through the call.
    config, state = visits_config(tmp_path, clip_seconds=2, record_calls="true", call_max_seconds=60)
    device = start_device("--config", str(config), "--verbose")
    pair_page(device, browser, "Anna's phone")
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": VP8_ONLY_JS})
    browser.refresh()
    poll(lambda: (page_test_hooks(browser) or {}).get("signaling") == "open", PAGE_TIMEOUT, message="no signaling")
    events = device.events(timeout=CLIP_TIMEOUT)
    talk_seconds = 6
    visit, done = answered_visit(device, browser, events, talk_seconds=talk_seconds)
    device.wait_for_log(r"the offer does not match the warm pipeline; building the call's own", timeout=1)
    assert done["state"] == "done" and done["frames"] > 0, done
    seconds, text = discover(state / "visits" / f"{visit}.mp4")
    print(f"ring clip of a call on its own pipeline: {done}, {seconds:.2f} s")
    assert "H.264" in text and seconds < talk_seconds, text
    assert decoded_frames(state / "visits" / f"{visit}.mp4") > 0
    entry = visits(device)[0]
    assert entry["id"] == visit and entry["outcome"] == "answered" and entry["clip"] == f"{visit}.mp4", entry
