"""Chat between the phone page and the door over a PeerJS data connection (BinaryPack, reliable).

The page opens the data connection itself once its call with the door connects; the device answers it with
a webrtcbin of its own. What the visitor types arrives as a control-socket `chat` event; what the control
socket sends appears in the page's chat log; the door's mute shows on the page as a status line.
"""

import json
import time

from selenium.webdriver.common.by import By

from polling import poll
from test_call import CALL_TIMEOUT, join, ring
from test_security import Attacker
from test_web_client import chat_texts, hooks, send_chat, wait_chat

DATA_SDP = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
            "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n"
            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=sctp-port:5000\r\n")


def next_event(events, wanted, timeout):
    """The first event from `events` for which `wanted(event)` holds, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    seen = []
    for event in events:
        seen.append(event)
        if wanted(event):
            return event
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no matching event within {timeout} s; saw {seen}")


def test_chat_both_ways_and_mute_status(device, browser):
    link = ring(device)
    join(browser, link)
    events = device.events(timeout=CALL_TIMEOUT)

    # Page → door: typed in #chat-input, sent with Enter, arrives as a control-socket event.
    send_chat(browser, "Parcel for flat 3")
    wait_chat(browser, ("me", "Parcel for flat 3"))
    event = next_event(events, lambda e: e.get("event") == "chat", CALL_TIMEOUT)
    assert event == {"event": "chat", "from": "visitor", "text": "Parcel for flat 3"}, event
    state = device.state()
    assert state["phase"] == "in-call", state

    # A stranger on the same signaling server offers a data connection to the room while the call runs: it
    # is counted as refused and gets no answer and no candidate, while the caller's chat goes on.
    stranger = Attacker(device.port, "stranger-data")
    try:
        stranger.socket.send(json.dumps({"type": "OFFER", "dst": state["room"]["peerId"], "payload": {
            "sdp": {"type": "offer", "sdp": DATA_SDP}, "type": "data", "connectionId": "dc_stranger",
            "label": "dc_stranger", "reliable": True, "serialization": "binary"}}))
        poll(lambda: device.state()["admission"]["dataOffersRefused"] == 1, 5,
             message=lambda: f"the stranger's data offer was not refused: {device.state()['admission']}")
    finally:
        stranger.close()
    assert stranger.received == [], stranger.received

    # Door → page: the control command's text shows in the page's log as the other side's message.
    assert device.control({"cmd": "chat", "text": "Leave it at the door, thanks"}) == {"ok": True}
    wait_chat(browser, ("them", "Leave it at the door, thanks"))

    # Too long: refused politely, nothing sent.
    reply = device.control({"cmd": "chat", "text": "x" * 1001})
    assert reply.get("ok") is False and "1000" in reply.get("error", ""), reply
    assert ["them", "x" * 1001] not in chat_texts(browser)

    # A visitor's message over the door's limit (the page allows 2000 characters): not delivered, and the
    # page is told so on its status line.
    browser.execute_script("document.getElementById('chat-input').value = arguments[0];"
                           "document.getElementById('chat-form').requestSubmit();", "y" * 1500)
    wait_chat(browser, ("status", "Not delivered: the door takes messages of up to 1000 characters."))

    # Mute at the door shows on the page as a status line, and so does unmuting.
    assert device.control({"cmd": "press", "button": "mute"}) == {"ok": True}
    wait_chat(browser, ("status", "Status — muted: true"))
    assert device.control({"cmd": "press", "button": "mute"}) == {"ok": True}
    wait_chat(browser, ("status", "Status — muted: false"))
    assert hooks(browser).get("chatOpen") is True

    # The call ends: the data connection goes with it and chat is refused.
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    poll(lambda: device.state()["call"] is None, 5, message="the call did not end")
    reply = device.control({"cmd": "chat", "text": "anyone there?"})
    assert reply == {"ok": False, "error": "no call is running"}, reply
    device.wait_for_log(r"data connection with \S+ \(\S+\) closed", timeout=5)

