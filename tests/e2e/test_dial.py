"""What the door initiates through its home ID: data connections (and chat over them) to a page of the real
web client that is open and registered, and to a peer that is not there (EXPIRE).

The page answers a data OFFER from the door's home ID at once (as PeerJS does) and shows its chat messages in
"Messages from the door", whose reply form sends back over the same connection.
"""

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from polling import poll
from test_call import CALL_TIMEOUT, PAGE_TIMEOUT, wait_page_state
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
    links = device.state()["dataLinks"]
    assert {"peer": peer, "connectionId": connection_id, "direction": "outgoing", "label": connection_id,
            "serialization": serialization, "open": True} in links, links

    # Door → page: shown in "Messages from the door" (the page is in no call).
    assert device.control({"cmd": "chat", "peer": peer, "text": "Your parcel is here"}) == {"ok": True}
    wait_chat(browser, ("them", "Your parcel is here"), list_id="door-messages-log")
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
    device.wait_for_log(r"data connection to nobody-is-here-7 \(dc_\w+\): the peer is offline \(EXPIRE\)", timeout=2)
    assert device.state()["dataLinks"] == []
    # Refusals that need no network.
    assert device.control({"cmd": "connect", "peer": "bad id!"}).get("ok") is False
    assert device.control({"cmd": "connect", "peer": home_id(device)}).get("ok") is False
    assert device.control({"cmd": "chat", "peer": "nobody-is-here-7", "text": "hi"}).get("ok") is False
