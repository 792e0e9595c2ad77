"""A PeerJS app opens its data connection and its call together (`peer.connect` and `peer.call`). When the call
is a knock, the data OFFER arrives while nobody has let the caller in yet: the door holds it (no answer, no
candidate) and takes it once ANSWER lets the call in, so chat from the door reaches that connection; a knock
that is declined takes its held data connection with it; held offers are bounded in count and time.
"""

import re

import pytest

from polling import poll
from test_buttons import call_door, press, wait_knock, without_secret
from test_call import CALL_TIMEOUT, page_test_hooks, ring, wait_page_state
from test_peerjs14 import door14, open_peer, page_server, peer_state, run  # noqa: F401 — door14, page_server are fixtures

# One more data connection to the door, opened the moment the page's call exists (still knocking); what it
# receives and whether it opened are kept on window for the test.
OPEN_WITH_THE_CALL_JS = """
window.__held = {opened: false, received: []};
const conn = window.intercomTest.openDataConnection({serialization: 'binary', reliable: true,
                                                    metadata: {purpose: 'chat'}});
if (!conn) return null;
conn.addEventListener('open', () => { window.__held.opened = true; });
conn.addEventListener('data', (event) => { window.__held.received.push(JSON.stringify(event.detail)); });
return conn.connectionId;
"""


def held(browser):
    return browser.execute_script("return window.__held || null;")


def open_data_with_the_call(browser):
    """As soon as the page's call exists (its OFFER on the way), open the data connection too."""
    poll(lambda: (page_test_hooks(browser) or {}).get("connectionId"), 10,
         message=lambda: f"the page made no call: {page_test_hooks(browser)}")
    connection_id = browser.execute_script(OPEN_WITH_THE_CALL_JS)
    assert connection_id and connection_id.startswith("dc_"), connection_id
    return connection_id


@pytest.mark.device_args()
def test_a_data_connection_opened_while_knocking_gets_chat_after_answer(device, browser):
    link = ring(device)
    call_door(browser, without_secret(link))
    connection_id = open_data_with_the_call(browser)
    wait_knock(device, browser)
    device.wait_for_log(rf"holding the data connection .*{connection_id}", timeout=10)
    assert held(browser)["opened"] is False, "the door answered a data connection before the call was let in"

    press(device, "answer")
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    poll(lambda: held(browser)["opened"], CALL_TIMEOUT,
         message=lambda: f"the held data connection never opened: {held(browser)}\n{device.log_tail()}")
    assert device.control({"cmd": "chat", "text": "Come in, it is open"}) == {"ok": True}
    poll(lambda: any("Come in, it is open" in m for m in held(browser)["received"]), 10,
         message=lambda: f"the chat never reached the held data connection: {held(browser)}")


@pytest.mark.device_args()
def test_a_declined_knock_drops_its_held_data_connection(device, browser):
    link = ring(device)
    call_door(browser, without_secret(link))
    connection_id = open_data_with_the_call(browser)
    wait_knock(device, browser)
    device.wait_for_log(rf"holding the data connection .*{connection_id}", timeout=10)
    press(device, "decline")
    device.wait_for_log(rf"dropped the held data connection .*{connection_id}.*refused", timeout=10)
    assert held(browser)["opened"] is False, held(browser)


def test_held_data_offers_are_bounded_in_count_and_time(door14, browser, page_server):  # noqa: F811
    """Data offers to an open room from a peer that never calls: two are held (the per-peer bound), a third is
    refused at once, and the held two are dropped once 5 s pass without a call from that peer."""
    device = door14
    ring(device)
    knock_id = f"intercom-{device.state()['room']['code']}"
    open_peer(browser, page_server, device)
    for _ in range(3):
        assert run(browser, "window.peer14Connect(arguments[0])", knock_id).startswith("dc_")
    poll(lambda: device.state()["admission"]["dataOffersRefused"] == 1, 5,
         message=lambda: f"the third data offer was not refused at once: {device.state()['admission']}")
    assert len(re.findall(r"holding the data connection", device.log_text())) == 2, device.log_tail()
    poll(lambda: device.state()["admission"]["dataOffersRefused"] == 3, 10,
         message=lambda: f"the held offers outlived their bound: {device.state()['admission']}")
    assert not any(c["open"] for c in peer_state(browser)["connections"]), peer_state(browser)
