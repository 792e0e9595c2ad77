"""Paired browsers, the device's side (docs/pairing.md), with the real device and headless Chromium.

Each browser pairs as a person would: the test reads the pairing QR off the door's screen (the snapshot),
opens that link in the real web client, names the browser and presses Pair; a ring shows the page's ringing
dialog and Answer joins the door's room. What the real page never does (a MAC over the wrong fingerprints, a
token used twice, a hello with a wrong credential) is sent by `pairing_harness.js`, a scripted page that
imports the real web client's modules (PeerJS wire, data connections, config) from the device.
"""

import json
import re
import secrets
import time
from pathlib import Path

import pytest

from polling import poll
from receivers import PushEndpoint, make_certificate_authority
from selenium.webdriver.common.by import By

from test_call import (CALL_TIMEOUT, PAGE_TIMEOUT, check_browser_video_rises, check_device_media_rises, click,
                       decode_qr, page_test_hooks, remote_video, wait_page_state)
from test_chat import next_event
from test_notify import receivers  # noqa: F401  (the fixture)
from test_web_client import base_url

HARNESS = (Path(__file__).parent / "pairing_harness.js").read_text()
PAIR_TIMEOUT = 25.0  # the page's own 20 s pairing timeout, with room
RING_TIMEOUT = 15.0  # the room registers, the door opens a data connection to the page, hello, ring


def stable_id():
    return "intercom-hh-" + secrets.token_hex(16)


def state_config(tmp_path, ca_file=None):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    config = tmp_path / "intercom.yaml"
    text = f"paths:\n  state: {state}\n"
    if ca_file:
        text += f"notify:\n  ca_file: {ca_file}\n"
    config.write_text(text)
    return config, state


def open_harness(driver, device, peer_id):
    driver.get(base_url(device))
    wait_page_state(driver, "ready", PAGE_TIMEOUT)
    assert driver.execute_async_script(HARNESS, peer_id) is True
    return driver


def harness(driver):
    return driver.execute_script("const h = window.harness; return {offers: h.offers, rings: h.rings, over: h.over,"
                                 " closed: h.closed, problems: h.problems, opened: h.opened, links: h.links, pairing: h.pairing &&"
                                 " {id: h.pairing.id, door: h.pairing.door, home: h.pairing.home}};")


def screen_pairing_link(device):
    """Opens the pairing window with `ctl pair` and reads the pairing link off the screen's QR."""
    snapshot = poll(lambda: device.state()["snapshot"], 5, message="no snapshot")
    # Snapshots are written off the loop: a window that just closed may still be the newest picture, and its
    # used link must not be read as the new one.
    poll(lambda: "?pair=" not in (decode_qr(snapshot) or ""), 5, message="the last pairing QR stays on the screen")
    answer = device.control({"cmd": "pair"})
    assert answer.get("ok") is True, answer
    return poll(lambda: (text := decode_qr(snapshot)) and "?pair=" in text and text, 5,
                message="the screen shows no pairing QR")


def try_pair(driver, link, name, tamper=False):
    return driver.execute_async_script(
        "const [link, name, tamper, done] = arguments; window.harness.pair(link, name, tamper).then(done);",
        link, name, tamper)


def pair(device, driver, name):
    link = screen_pairing_link(device)
    home = device.state()["homePeerId"]
    assert re.fullmatch(re.escape(base_url(device)) + r"\?pair=" + re.escape(home) + r"#p=[A-Za-z0-9_-]{22}", link), link
    reply = try_pair(driver, link, name)
    assert reply["t"] == "paired" and reply["door"] == "Front door" and reply["home"] == home, reply
    poll(lambda: device.state()["phase"] == "paired", 5, message=lambda: f"no Paired screen: {device.state()['phase']}")
    assert harness(driver)["problems"] == []
    return link, reply["id"]


def ring(device):
    assert device.control({"cmd": "press", "button": "doorbell"}) == {"ok": True}
    poll(lambda: device.state()["room"], 5, message="no room opened")
    answer = device.control({"cmd": "link"})
    assert answer.get("ok") is True, answer
    return answer["link"]


def check_nothing_secret_logged(device, *secrets_):
    for line in device.log_text().splitlines():
        for secret in secrets_:
            assert secret not in line, f"a log line carries a secret {secret!r}: {line}"


def page_hooks(driver):
    return page_test_hooks(driver) or {}


def pair_page(device, driver, name):
    """Pairs the real web client as a person would: opens the link read off the door's screen, names the
    browser, presses Pair; returns the pairing link and the pairing's id."""
    link = screen_pairing_link(device)
    driver.get(link)
    wait_page_state(driver, "ready", PAGE_TIMEOUT)
    field = poll(lambda: next((e for e in driver.find_elements(By.ID, "pair-name") if e.is_displayed()), None), 5,
                 message="no pairing prompt")
    field.clear()
    field.send_keys(name)
    click(driver, "pair")
    poll(lambda: page_hooks(driver).get("pairing") in ("paired", "refused"), PAIR_TIMEOUT,
         message=lambda: f"the page did not pair: {page_hooks(driver)}")
    assert page_hooks(driver)["pairing"] == "paired", page_hooks(driver)
    poll(lambda: device.state()["phase"] == "paired", 5, message=lambda: f"no Paired screen: {device.state()['phase']}")
    stored = json.loads(driver.execute_script("return localStorage.getItem('intercom.pairing')"))
    assert stored["home"] == device.state()["homePeerId"] and stored["door"] == "Front door", stored
    poll(lambda: page_hooks(driver).get("ringable") is True and page_hooks(driver).get("peerId") == stored["peerId"],
         PAGE_TIMEOUT, message=lambda: f"the paired page is not registered under its stable ID: {page_hooks(driver)}")
    return link, stored


def ringing_dialog_open(driver):
    return driver.execute_script("return document.getElementById('ringing').open")


def test_two_paired_browsers_ring_one_answers_the_other_hears_answered_elsewhere(start_device, browser,
                                                                                 more_browsers, tmp_path):
    config, state = state_config(tmp_path)
    # One phone per call: the others hear "answered elsewhere" (with more, they are offered the visit:
    # test_household.py).
    config.write_text(config.read_text() + "visits:\n  max_phones: 1\n")
    device = start_device("--config", str(config))
    anna, bob, old = browser, more_browsers(), more_browsers()
    events = device.events(timeout=RING_TIMEOUT)
    links, stored = [], {}
    for driver, name in ((anna, "Anna's phone"), (bob, "Bob's laptop"), (old, "Old tablet")):
        link, stored[name] = pair_page(device, driver, name)
        links.append(link)

    assert (state / "pairings.json").stat().st_mode & 0o777 == 0o600
    listed = device.control({"cmd": "pairings"})["pairings"]
    assert [(p["id"], p["name"], p["lastSeenAt"]) for p in listed] == [
        (stored[n]["id"], n, None) for n in ("Anna's phone", "Bob's laptop", "Old tablet")], listed
    assert all("credential" not in p and "peerId" not in p for p in listed)
    # Revoked by name; the page keeps its old credential and stays registered under its stable ID.
    assert device.control({"cmd": "unpair", "id": "Old tablet"}) == {"ok": True, "id": stored["Old tablet"]["id"]}
    assert [p["name"] for p in device.control({"cmd": "pairings"})["pairings"]] == ["Anna's phone", "Bob's laptop"]

    pressed_at = time.monotonic()
    join_link = ring(device)
    code = device.state()["room"]["code"]
    for driver in (anna, bob):
        poll(lambda: (page_hooks(driver).get("ring") or {}).get("state") == "ringing", RING_TIMEOUT, interval=0.02,
             message=lambda: f"a paired page did not ring: {page_hooks(driver)}\n{device.log_tail()}")
    print(f"pairing: both paired pages ringing {(time.monotonic() - pressed_at) * 1000:.0f} ms after the press")
    for driver in (anna, bob):
        assert ringing_dialog_open(driver)
        assert driver.find_element(By.ID, "ringing-title").text == "Front door is ringing"
        assert driver.find_element(By.ID, "ringing-info").text == f"Room {code}"
    assert {p["name"]: p["onlineAtLastRing"] for p in device.control({"cmd": "pairings"})["pairings"]} == {
        "Anna's phone": True, "Bob's laptop": True}

    # Anna answers: two-way media. Bob's page closes its dialog and says it was answered elsewhere.
    click(anna, "ring-answer")
    wait_page_state(anna, "in-call", CALL_TIMEOUT)
    poll(lambda: (v := remote_video(anna)) and v["width"] > 0, 10, message=lambda: f"no picture: {remote_video(anna)}")
    check_browser_video_rises(anna)
    check_device_media_rises(device)
    assert device.state()["call"]["peer"] == stored["Anna's phone"]["peerId"]
    poll(lambda: page_hooks(bob).get("ring", {}).get("state") == "answered-elsewhere", 5,
         message=lambda: f"Bob's page was not told: {page_hooks(bob)}")
    assert not ringing_dialog_open(bob)
    assert bob.find_element(By.ID, "status").text == "Answered elsewhere"
    # The revoked page was offered nothing: no ring, no dialog, still registered and ringable in its own eyes.
    assert page_hooks(old).get("ring") is None and not ringing_dialog_open(old), page_hooks(old)
    assert page_hooks(old).get("peerId") == stored["Old tablet"]["peerId"]

    secrets_ = [link.split("#p=")[1] for link in links] + [s["credential"] for s in stored.values()] \
        + [join_link.split("#k=")[1]]
    check_nothing_secret_logged(device, *secrets_)
    for event in events:
        for secret in secrets_:
            assert secret not in json.dumps(event), f"an event carries a secret: {event}"
        if event.get("event") == "pairing-ring-over":
            break


def test_tokens_are_one_use_proofs_are_checked_and_a_missed_ring_is_said(start_device, browser, receivers, tmp_path):
    ca_file, tls = make_certificate_authority(tmp_path / "ca")
    endpoint = receivers(PushEndpoint, tls=tls)
    config, _ = state_config(tmp_path, ca_file)
    device = start_device("--config", str(config))
    page = open_harness(browser, device, stable_id())
    page.execute_script("window.harness.pushSubscription = arguments[0];", endpoint.subscription())

    # A MAC over the wrong fingerprints is refused; the window stays open for the real one.
    link = screen_pairing_link(device)
    assert try_pair(page, link, "Anna", tamper=True) == {"t": "pair-refused", "reason": "proof"}
    assert device.state()["phase"] == "pairing"
    reply = try_pair(page, link, "Anna")
    assert reply["t"] == "paired" and reply["vapidPublicKey"], reply
    assert try_pair(page, link, "Anna again") == {"t": "pair-refused", "reason": "used"}
    poll(lambda: device.control({"cmd": "pairings"})["pairings"][0]["push"] is True, 5,
         message="the push subscription sent after pairing was not kept")
    # DECLINE closes a window without a ring; its token is then expired.
    cancelled = screen_pairing_link(device)
    assert device.control({"cmd": "press", "button": "decline"}) == {"ok": True}
    poll(lambda: device.state()["phase"] == "idle", 5, message="DECLINE did not close the pairing window")
    assert try_pair(page, cancelled, "Anna") == {"t": "pair-refused", "reason": "expired"}
    assert len(device.control({"cmd": "pairings"})["pairings"]) == 1

    # A hello with a wrong credential gets no ring.
    page.execute_script("window.harness.wrongCredential = arguments[0];", "A" * 43)
    events = device.events(timeout=RING_TIMEOUT + 5)
    ring(device)
    refused = next_event(events, lambda e: e.get("event") == "pairing-ring", RING_TIMEOUT)
    assert refused["result"] == "refused", refused
    assert harness(page)["rings"] == []
    # Web Push reaches the pairing's subscription with the ring's link.
    poll(lambda: endpoint.messages or endpoint.problems, 5, message="no Web Push for the pairing")
    assert endpoint.problems == []
    [message] = endpoint.messages
    join_link = device.control({"cmd": "link"})["link"]
    assert message["t"] == "ring" and message["link"] == join_link and message["expiresAt"] > 0, message
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    poll(lambda: device.state()["phase"] == "idle", 10, message="the room did not close")

    # The right credential: rung, then the room closes unanswered and the page hears "missed".
    page.execute_script("delete window.harness.wrongCredential;")
    ring(device)
    poll(lambda: harness(page)["rings"], RING_TIMEOUT, message=lambda: f"not rung: {harness(page)}")
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    poll(lambda: "missed" in harness(page)["over"], 5, message=lambda: f"no missed ring-over: {harness(page)}")
    assert device.control({"cmd": "pairings"})["pairings"][0]["lastSeenAt"] is not None


def ring_links(device):
    return [link for link in device.state()["dataLinks"] if link["label"] == "ring"]


HELLO_ATTEMPTS = 3  # PairedBrowsers.ringLinkAttempts: silent ring links the door tries per pairing and ring


def ring_a_silent_page(start_device, browser, tmp_path, name, silent):
    """A door with one paired harness page that says no hello on its first `silent` ring links (JS true: on
    none), rung."""
    config, _ = state_config(tmp_path)
    device = start_device("--config", str(config))
    page = open_harness(browser, device, stable_id())
    assert try_pair(page, screen_pairing_link(device), name)["t"] == "paired"
    page.execute_script("window.harness.silent = arguments[0];", silent)
    ring(device)
    return device, page


def test_a_ring_link_that_never_says_hello_is_replaced_then_given_up(start_device, browser, tmp_path):
    device, page = ring_a_silent_page(start_device, browser, tmp_path, "Quiet tablet", True)
    poll(lambda: any(link["open"] for link in ring_links(device)), RING_TIMEOUT,
         message=lambda: f"the ring link never opened: {device.state()['dataLinks']}\n{device.log_tail()}")
    device.wait_for_log(r"ring link of pairing \w+ \(intercom-hh-\w+\): no hello within \d+ s of opening; "
                        rf"closed \({HELLO_ATTEMPTS} link\(s\) tried\)", timeout=HELLO_ATTEMPTS * RING_TIMEOUT)
    poll(lambda: len(harness(page)["closed"]) == HELLO_ATTEMPTS, 5,
         message=lambda: f"the page's ends did not all close: {harness(page)}")
    got = harness(page)
    assert ring_links(device) == [] and got["rings"] == []
    assert [o["metadata"] for o in got["offers"] if o["src"] == got["pairing"]["home"]] == [{"intercom": "ring"}] * HELLO_ATTEMPTS
    assert device.state()["phase"] == "room"


def test_a_ring_link_that_stays_silent_is_replaced_and_the_next_one_rings(start_device, browser, tmp_path):
    """What the retry is for: about one ring link in 20–25 loses the page's hello on the door's side (inside
    GStreamer 1.22). The harness stands that loss in by staying silent on its first link; the ring is not lost,
    a fresh link a few seconds later rings the page."""
    device, page = ring_a_silent_page(start_device, browser, tmp_path, "Slow tablet", 1)
    poll(lambda: harness(page)["rings"], 2 * RING_TIMEOUT,
         message=lambda: f"the second ring link did not ring: {harness(page)}\n{device.log_tail()}")
    got = harness(page)
    assert got["opened"] >= 2 and got["problems"] == []
    assert got["rings"][0]["code"] == device.state()["room"]["code"]
    device.wait_for_log(rf"no hello within \d+ s of opening; closed, trying a new link \(2 of {HELLO_ATTEMPTS}\)",
                        timeout=1)
    device.wait_for_log(r"rang pairing \w+ \"Slow tablet\"", timeout=1)


def test_a_call_the_door_places_from_the_open_room_ends_the_paired_ring(start_device, browser, more_browsers,
                                                                       tmp_path):
    """helper-14's case: the door calls someone (`ctl call`) while its room rings the paired browsers; once that
    call is answered it is the room's call, and the paired browsers hear "answered-elsewhere"."""
    config, _ = state_config(tmp_path)
    device = start_device("--config", str(config))
    paired = open_harness(more_browsers(), device, stable_id())
    assert try_pair(paired, screen_pairing_link(device), "Hall tablet")["t"] == "paired"
    browser.get(base_url(device))
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    callee = poll(lambda: page_hooks(browser).get("peerId"), 5, message="the page shows no peerId")

    ring(device)
    poll(lambda: harness(paired)["rings"], RING_TIMEOUT, message=lambda: f"not rung: {harness(paired)}")
    assert device.control({"cmd": "call", "peer": callee}).get("ok") is True
    wait_page_state(browser, "incoming", CALL_TIMEOUT)
    click(browser, "answer")
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    poll(lambda: harness(paired)["over"], 5, message=lambda: f"the paired browser was not told: {harness(paired)}")
    assert harness(paired)["over"] == ["answered-elsewhere"]
    assert device.state()["call"]["peer"] == callee


def test_pairing_needs_a_state_directory(start_device, tmp_path):
    config = tmp_path / "intercom.yaml"
    config.write_text(f"paths:\n  state: {tmp_path / 'missing'}\n")
    device = start_device("--config", str(config))
    answer = device.control({"cmd": "pair"})
    assert answer == {"ok": False, "error": "pairing needs a state directory (paths.state) to keep pairings in"}
    # A long press then rings as before.
    assert device.control({"cmd": "press", "button": "doorbell", "long": True}) == {"ok": True}
    poll(lambda: device.state()["phase"] == "room", 5, message="a long press without pairing did not ring")


def test_the_pairing_window_lasts_as_configured(start_device, tmp_path):
    config, _ = state_config(tmp_path)
    config.write_text(config.read_text() + "door:\n  pairing_window: 10\n")
    device = start_device("--config", str(config))
    opened = time.time()
    answer = device.control({"cmd": "pair"})
    assert answer["ok"] is True, answer
    assert 8.5 <= answer["expiresAt"] / 1000 - opened <= 10.5, answer
    assert device.state()["phase"] == "pairing"
    poll(lambda: device.state()["phase"] == "idle", 20, message="the pairing window did not close")
    assert time.time() - opened >= 9, "the pairing window closed before its 10 s"
