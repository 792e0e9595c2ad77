"""What the door initiates through its home ID: data connections (and chat over them) and calls, to a page of
the real web client that is open and registered, and to a peer that is not there (EXPIRE).

The page answers a data OFFER from the door's home ID at once (as PeerJS does) and shows its chat messages in
"Messages from the door", whose reply form sends back over the same connection. A call from the door rings in
the page's incoming-call dialog like any PeerJS call.
"""

import re
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from polling import poll
from test_call import (CALL_TIMEOUT, HANGUP_NOTICE_MS, PAGE_TIMEOUT, check_browser_video_rises,
                       check_device_media_rises, click, page_test_hooks, remote_video, wait_device_idle,
                       wait_page_state)
from test_chat import next_event
from test_web_client import base_url, chat_texts, hooks, wait_chat

EXPIRE_TIMEOUT = 12.0  # the server's 5 s queue, swept every second, plus the round trip


def open_page(browser, device):
    """Open the plain page (no room); return the peer ID it registered under."""
    browser.get(base_url(device))
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    return poll(lambda: hooks(browser).get("peerId"), 5, message="the page shows no peerId")


def home_id(device):
    state = device.state()
    home = state.get("homePeerId")
    assert home and re.fullmatch(r"intercom-home-[0-9a-f]{32}", home), state
    return home


@pytest.mark.parametrize("serialization", ["binary", "json", "raw"])
def test_door_opens_a_data_connection_and_chats_both_ways(device, browser, serialization):
    peer = open_page(browser, device)
    home = home_id(device)
    events = device.events(timeout=CALL_TIMEOUT)

    reply = device.control({"cmd": "connect", "peer": peer, "serialization": serialization})
    assert reply.get("ok") is True and reply["connectionId"].startswith("dc_") and reply["homePeerId"] == home, reply
    connection_id = reply["connectionId"]
    opened = next_event(events, lambda e: e.get("event") in ("data-open", "data-closed"), CALL_TIMEOUT)
    assert opened == {"event": "data-open", "peer": peer, "connectionId": connection_id}, opened
    links = [{k: v for k, v in link.items() if k != "keptAlive"} for link in device.state()["dataLinks"]]
    assert {"peer": peer, "connectionId": connection_id, "direction": "outgoing", "label": connection_id,
            "serialization": serialization, "open": True} in links, links

    # Door → page: shown in "Messages from the door" (the page is in no call).
    assert device.control({"cmd": "chat", "peer": peer, "text": "Your parcel is here"}) == {"ok": True}
    wait_chat(browser, ("them", "Your parcel is here"), list_id="door-messages-log")
    # The page keeps json and binary links with the door alive, not raw ones (docs/data-link-liveness.md).
    def kept():
        return [link["keptAlive"] for link in device.state()["dataLinks"] if link["connectionId"] == connection_id]
    poll(lambda: kept() == [serialization != "raw"], 5, message=lambda: f"keptAlive: {device.state()['dataLinks']}")
    assert browser.find_element(By.ID, "door-messages").is_displayed()
    assert hooks(browser)["state"] == "ready"

    # Page → door: typed in the reply field, arrives as a chat event naming the peer and the connection.
    field = browser.find_element(By.ID, "door-message-input")
    field.send_keys("Please leave it by the door")
    field.send_keys(Keys.ENTER)
    wait_chat(browser, ("me", "Please leave it by the door"), list_id="door-messages-log")
    event = next_event(events, lambda e: e.get("event") == "chat", CALL_TIMEOUT)
    assert event == {"event": "chat", "from": "peer", "peer": peer, "connectionId": connection_id,
                     "text": "Please leave it by the door"}, event

    # The door closes it: the page says so, and further chat is refused.
    assert device.control({"cmd": "disconnect", "peer": peer}) == {"ok": True}
    closed = next_event(events, lambda e: e.get("event") == "data-closed", 5)
    assert closed == {"event": "data-closed", "peer": peer, "connectionId": connection_id, "reason": None}, closed
    poll(lambda: browser.find_element(By.ID, "door-message-note").text == "The door closed the conversation.", 5,
         message=lambda: f"the page did not notice: {browser.find_element(By.ID, 'door-message-note').text!r}")
    reply = device.control({"cmd": "chat", "peer": peer, "text": "still there?"})
    assert reply.get("ok") is False, reply
    assert ["them", "still there?"] not in chat_texts(browser, "door-messages-log")


def test_a_data_connection_to_an_absent_peer_ends_offline(device):
    events = device.events(timeout=EXPIRE_TIMEOUT + 5)
    reply = device.control({"cmd": "connect", "peer": "nobody-is-here-7"})
    assert reply.get("ok") is True, reply
    closed = next_event(events, lambda e: e.get("event") in ("data-open", "data-closed"), EXPIRE_TIMEOUT)
    assert closed == {"event": "data-closed", "peer": "nobody-is-here-7", "connectionId": reply["connectionId"],
                      "reason": "offline"}, closed
    assert device.state()["dataLinks"] == []
    # Refusals that need no network.
    assert device.control({"cmd": "connect", "peer": "bad id!"}).get("ok") is False
    assert device.control({"cmd": "connect", "peer": home_id(device)}).get("ok") is False
    assert device.control({"cmd": "chat", "peer": "nobody-is-here-7", "text": "hi"}).get("ok") is False


def test_door_calls_a_waiting_page_which_answers(device, browser):
    peer = open_page(browser, device)
    home = home_id(device)
    events = device.events(timeout=CALL_TIMEOUT)

    reply = device.control({"cmd": "call", "peer": peer, "name": "Flat 3"})
    assert reply.get("ok") is True and reply["connectionId"].startswith("mc_") and reply["homePeerId"] == home, reply
    call_id = reply["connectionId"]
    state = device.state()
    assert state["phase"] == "dialing" and state["dialing"]["peer"] == peer, state
    screen = next_event(events, lambda e: e.get("event") == "screen", 5)
    assert screen["screen"] == "calling", screen
    # The door is busy while it dials: a second call is refused.
    assert device.control({"cmd": "call", "peer": "someone-else"}).get("ok") is False

    # The page rings, says who calls (the offer's metadata), and its Answer button takes the call.
    wait_page_state(browser, "incoming", CALL_TIMEOUT)
    assert browser.find_element(By.ID, "incoming-from").text == "From Front door"
    click(browser, "answer")
    answered = next_event(events, lambda e: e.get("event") in ("call-answered", "call-failed"), CALL_TIMEOUT)
    assert answered == {"event": "call-answered", "peer": peer, "connectionId": call_id}, answered
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    poll(lambda: (v := remote_video(browser)) and v["width"] > 0, 10,
         message=lambda: f"<video id=remote> has no picture: {remote_video(browser)}")

    # Two-way media, and the door's call controls work as for an answered call.
    check_browser_video_rises(browser)
    check_device_media_rises(device)
    state = device.state()
    assert state["phase"] == "in-call" and state["call"]["peer"] == peer and state["call"]["connectionId"] == call_id
    poll(lambda: device.state()["call"]["dtlsVerified"] is True, 10,
         message=lambda: f"the device did not verify the page's DTLS certificate: {device.state()['call']}")
    keyframes = device.state()["call"]["keyframesSent"]
    assert device.control({"cmd": "keyframe"}) == {"ok": True}
    poll(lambda: device.state()["call"]["keyframesSent"] > keyframes, 5, message="no keyframe after the request")
    assert device.control({"cmd": "camera", "off": True}) == {"ok": True}
    poll(lambda: page_test_hooks(browser).get("remoteVideoOff") is True, 5,
         message=lambda: f"the page did not see the camera go off: {page_test_hooks(browser)}")
    assert device.control({"cmd": "camera", "off": False}) == {"ok": True}
    poll(lambda: page_test_hooks(browser).get("remoteVideoOff") is False, 5,
         message=lambda: f"the page did not see the camera come back: {page_test_hooks(browser)}")

    # Chat: the page opens its data connection to the ID that called it (the home ID), and the door takes it.
    poll(lambda: page_test_hooks(browser).get("chatOpen") is True, CALL_TIMEOUT,
         message=lambda: f"the page's chat never opened: {page_test_hooks(browser)}")
    assert device.control({"cmd": "chat", "text": "Hello from the door"}) == {"ok": True}
    wait_chat(browser, ("them", "Hello from the door"))

    # The door hangs up: the page notices within a second.
    t0 = time.time() * 1000
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    hooks_after = poll(lambda: (h := page_test_hooks(browser)) and h.get("endedAt") and h, 5,
                       message=lambda: f"the page never ended the call: {page_test_hooks(browser)}")
    assert hooks_after["endedBy"] == "remote", hooks_after
    delay = hooks_after["endedAt"] - t0
    assert 0 <= delay < HANGUP_NOTICE_MS, f"the page noticed the hang-up {delay:.0f} ms after it was sent"
    wait_device_idle(device)


# The page never sees the call's channel and never closes its RTCPeerConnection: no channel close, no DTLS
# close_notify, no ICE failure reach the door; only the page's LEAVE (reason "hangup") can say it hung up.
SILENT_HANGUP_JS = """
RTCPeerConnection.prototype.close = function () {};
const addListener = RTCPeerConnection.prototype.addEventListener;
RTCPeerConnection.prototype.addEventListener = function (type, listener, options) {
  if (type !== 'datachannel') return addListener.call(this, type, listener, options);
};
"""


@pytest.mark.parametrize("page", ["stock", "without-channel-or-close"])
def test_a_page_hanging_up_a_door_call_is_noticed(device, browser, page):
    peer = open_page(browser, device)
    if page != "stock":
        browser.execute_script(SILENT_HANGUP_JS)
    assert device.control({"cmd": "call", "peer": peer}).get("ok") is True
    wait_page_state(browser, "incoming", CALL_TIMEOUT)
    click(browser, "answer")
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    check_device_media_rises(device)
    click(browser, "hangup")
    hangup_at = poll(lambda: (page_test_hooks(browser) or {}).get("hangupAt"), 2, message="no hangupAt")
    last_call = poll(lambda: device.state()["lastCall"], 5, message="the device never saw the hang-up")
    assert last_call["endedBy"] == "remote", last_call
    assert 0 <= last_call["endedAt"] - hangup_at < HANGUP_NOTICE_MS, (last_call, hangup_at)
    wait_device_idle(device)


def test_a_call_to_an_absent_peer_ends_offline_and_the_door_keeps_serving(device, browser):
    events = device.events(timeout=EXPIRE_TIMEOUT + 5)
    reply = device.control({"cmd": "call", "peer": "nobody-is-here-9"})
    assert reply.get("ok") is True, reply
    failed = next_event(events, lambda e: e.get("event") in ("call-failed", "call-answered"), EXPIRE_TIMEOUT)
    assert failed == {"event": "call-failed", "peer": "nobody-is-here-9", "connectionId": reply["connectionId"],
                      "reason": "offline"}, failed
    poll(lambda: device.state()["phase"] in ("ending", "idle"), 2, message=lambda: f"{device.state()}")
    state = device.state()
    assert state["call"] is None and state["dialing"] is None, state

    # Still serving: a visitor rings and a page joins as usual.
    from test_call import join, ring
    join(browser, ring(device))
    check_device_media_rises(device)


def test_the_doorbell_while_dialing_gives_up_the_call_and_rings(device, browser):
    peer = open_page(browser, device)
    events = device.events(timeout=CALL_TIMEOUT)
    reply = device.control({"cmd": "call", "peer": peer})
    wait_page_state(browser, "incoming", CALL_TIMEOUT)
    assert device.control({"cmd": "press", "button": "doorbell"}) == {"ok": True}
    failed = next_event(events, lambda e: e.get("event") == "call-failed", 5)
    assert failed["reason"] == "cancelled" and failed["connectionId"] == reply["connectionId"], failed
    state = device.state()
    assert state["phase"] == "room" and state["room"] is not None, state
    # The page's dialog stops ringing: the door said "cancelled" (LEAVE).
    poll(lambda: page_test_hooks(browser).get("state") != "incoming", 5,
         message=lambda: f"the page kept ringing: {page_test_hooks(browser)}")
