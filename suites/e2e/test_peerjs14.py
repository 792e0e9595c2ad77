"""The door with a peer that speaks the PeerJS 1.4 wire (suites/e2e/peerjs14/peer14.js, written from the
protocol): its call has no data channel and it reads a LEAVE the way 1.4 does, so the door's hang-up must still
close its call within a second; and the json data connections the door opens must work with 1.4's text framing
as with 1.5's binary one.
"""

import functools
import http.server
import threading
import uuid
from pathlib import Path

import pytest

from polling import poll
from test_call import CALL_TIMEOUT, HANGUP_NOTICE_MS, PAGE_TIMEOUT, ring
from test_chat import next_event

PAGE_DIR = Path(__file__).with_name("peerjs14")


@pytest.fixture
def page_server():
    """Serves suites/e2e/peerjs14 on localhost (a secure context for WebRTC); yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(PAGE_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def door14(start_device, page_server):
    """The door, taking WebSockets from the 1.4 page's origin (another port on localhost) as it would from a page
    hosted elsewhere (`--allowed-origin`; browsers send an Origin and the built-in server checks it)."""
    return start_device("--allowed-origin", page_server)


def open_peer(browser, base, device, framing="1.4"):
    peer_id = str(uuid.uuid4())
    browser.get(f"{base}/index.html?server=ws://localhost:{device.port}&id={peer_id}&framing={framing}")
    poll(lambda: (s := peer_state(browser)) and s["open"], PAGE_TIMEOUT,
         message=lambda: f"the 1.4 peer never got OPEN: {peer_state(browser)}")
    return peer_id


def peer_state(browser):
    return browser.execute_script("return window.peer14 || null;")


def run(browser, script, *args):
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"Promise.resolve().then(() => {script}).then(done, (e) => done('error: ' + e));", *args)


def connection(browser, kind):
    return next((c for c in peer_state(browser)["connections"] if c["kind"] == kind), None)


def test_the_doors_hang_up_closes_a_peerjs14_call_opened_after_its_data_connection(door14, browser, page_server):
    device = door14
    ring(device)
    knock_id = f"intercom-{device.state()['room']['code']}"  # the code alone: a knock, answered at once here
    open_peer(browser, page_server, device)
    # As a stock 1.4 app does: connect, then call; its list of the door's connections is [data, media].
    assert run(browser, "window.peer14Connect(arguments[0])", knock_id).startswith("dc_")
    assert run(browser, "window.peer14Call(arguments[0])", knock_id).startswith("mc_")
    poll(lambda: device.state()["phase"] == "in-call" and (device.state()["call"] or {}).get("connected"), CALL_TIMEOUT,
         message=lambda: f"the door never connected the 1.4 call: {device.state()}")
    poll(lambda: (c := connection(browser, "data")) and c["open"], CALL_TIMEOUT,
         message=lambda: f"the 1.4 peer's data connection never opened: {peer_state(browser)}")
    poll(lambda: (c := connection(browser, "media")) and c["open"], CALL_TIMEOUT,
         message=lambda: f"the 1.4 peer's call never connected: {peer_state(browser)}")

    t0 = browser.execute_script("return Date.now();")
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    media = poll(lambda: (c := connection(browser, "media")) and c["closedAt"] and c, 5,
                 message=lambda: f"the 1.4 call stayed open after the door hung up: {peer_state(browser)}")
    delay = media["closedAt"] - t0
    print(f"the 1.4 call closed {delay} ms after the door's hang-up")
    assert 0 <= delay < HANGUP_NOTICE_MS, f"the 1.4 call closed {delay} ms after the door's hang-up"
    assert peer_state(browser)["errors"] == [], peer_state(browser)


@pytest.mark.parametrize("framing", ["1.4", "1.5"])
def test_a_json_data_connection_the_door_opens_works_with_either_framing(door14, browser, page_server, framing):
    device = door14
    peer_id = open_peer(browser, page_server, device, framing)
    events = device.events(timeout=CALL_TIMEOUT)
    reply = device.control({"cmd": "connect", "peer": peer_id, "serialization": "json"})
    assert reply.get("ok") is True, reply
    opened = next_event(events, lambda e: e.get("event") in ("data-open", "data-closed"), CALL_TIMEOUT)
    assert opened["event"] == "data-open", opened

    assert device.control({"cmd": "chat", "peer": peer_id, "text": "Parcel downstairs"}) == {"ok": True}
    poll(lambda: any(m.get("text") == "Parcel downstairs" for m in peer_state(browser)["received"]), 10,
         message=lambda: f"the {framing} peer could not read the door's json: {peer_state(browser)}")
    assert browser.execute_script("return window.peer14Send({t: 'chat', text: 'Thanks, coming'});") == 1
    event = next_event(events, lambda e: e.get("event") == "chat", CALL_TIMEOUT)
    assert event["text"] == "Thanks, coming" and event["peer"] == peer_id, event
    assert peer_state(browser)["errors"] == [], peer_state(browser)
