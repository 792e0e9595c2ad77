"""Hang-ups at the earliest moment, each way, and without a data channel to close.

PeerJS has no hang-up message: a PeerJS 1.5 peer hears one when the call's auxiliary data channel closes. That
channel opens only once ICE, DTLS and SCTP are up, and a caller that offers none (PeerJS 1.4) never has one. So
a side that hangs up while its channel is not open also says so over signaling: a LEAVE for the call's
connectionId with reason "hangup" (the door and the web page both do, and both take it as the other side's
hang-up). A caller that closes its peer connection also sends a DTLS close_notify, which the door hears; a door
whose channel is on its way still closes it when it arrives.
"""

import time

import pytest

from polling import poll
from test_call import (CALL_TIMEOUT, HANGUP_NOTICE_MS, PAGE_TIMEOUT, check_device_media_rises, click, join,
                       page_test_hooks, ring, wait_device_idle, wait_page_state)

QUICK_CALLS = 8

# The page hangs up in the same task that shows it in the call (RTCPeerConnection 'connected').
HANG_UP_AT_ONCE_JS = """
new MutationObserver((changes, observer) => {
  if (document.body.dataset.state !== 'in-call') return;
  observer.disconnect();
  document.getElementById('hangup').click();
}).observe(document.body, {attributes: true, attributeFilter: ['data-state']});
"""

# The call's auxiliary channel (label "undefined", as PeerJS 1.5 makes it) is not created, so the offer has no
# m=application, as a PeerJS 1.4 caller's; the chat's own data connections are left alone.
NO_CALL_CHANNEL_JS = """
const create = RTCPeerConnection.prototype.createDataChannel;
RTCPeerConnection.prototype.createDataChannel = function (label, options) {
  if (label === 'undefined') return Object.assign(new EventTarget(), {close() {}});
  return create.call(this, label, options);
};
"""


# The page's RTCPeerConnection is never closed, so no DTLS close_notify and no ICE failure reach the door.
KEEP_CONNECTION_JS = "RTCPeerConnection.prototype.close = function () {};"


def hang_up_noticed(device, browser):
    """(endedBy, ms from the page's click to the door's end of the call); waits up to 30 s for the end."""
    # The page hangs up once it is in the call, which under load can take a few seconds after the click.
    hangup_at = poll(lambda: (page_test_hooks(browser) or {}).get("hangupAt"), CALL_TIMEOUT,
                     message="page did not set intercomTest.hangupAt")
    last = poll(lambda: (s := device.state())["call"] is None and s["lastCall"], 30,
                message=lambda: f"the device never ended the call: {device.state()}")
    return last["endedBy"], last["endedAt"] - hangup_at


def test_a_page_hanging_up_as_it_connects_is_noticed_every_time(device, browser):
    results = []
    for _ in range(QUICK_CALLS):
        link = ring(device)
        browser.get(link)
        wait_page_state(browser, "ready", PAGE_TIMEOUT)
        browser.execute_script(HANG_UP_AT_ONCE_JS)
        click(browser, "join")
        results.append(hang_up_noticed(device, browser))
        wait_device_idle(device)
    print(f"\npage hang-ups at connect noticed by the door ((endedBy, ms) per call): {results}")
    wrong = [result for result in results if result[0] != "remote" or not 0 <= result[1] < HANGUP_NOTICE_MS]
    assert not wrong, f"hang-ups missed or late ((endedBy, ms) per call): {results}"


@pytest.mark.parametrize("connection", ["closed", "kept-open"])
def test_a_caller_without_a_data_channel_hangs_up(device, browser, connection):
    """No channel to close. "closed": the page closes its connection (the door hears the DTLS close_notify and
    the LEAVE). "kept-open": the connection is left up, so only the page's LEAVE tells the door."""
    link = ring(device)
    browser.get(link)
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    browser.execute_script(NO_CALL_CHANNEL_JS + (KEEP_CONNECTION_JS if connection == "kept-open" else ""))
    click(browser, "join")
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    check_device_media_rises(device)

    click(browser, "hangup")
    ended_by, delay = hang_up_noticed(device, browser)
    assert ended_by == "remote" and 0 <= delay < HANGUP_NOTICE_MS, (ended_by, delay)
    wait_device_idle(device)


def door_hangs_up_at_connect(device, browser, before_join=None):
    """(the page's endedBy, ms from `ctl hangup` to the page's end) for one call the door hangs up the moment it
    reports call-connected."""
    link = ring(device)
    browser.get(link)
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    if before_join:
        browser.execute_script(before_join)
    events = device.events(timeout=CALL_TIMEOUT)
    click(browser, "join")
    next(event for event in events if event.get("event") == "call-connected")
    sent_at = time.time() * 1000
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    hooks = poll(lambda: (h := page_test_hooks(browser)) and h.get("endedAt") and h, 10,
                 message=lambda: f"the page never ended the call: {page_test_hooks(browser)}")
    wait_device_idle(device)
    assert hooks["endReason"] == "hangup", hooks
    return hooks["endedBy"], round(hooks["endedAt"] - sent_at)


def test_the_door_hanging_up_as_the_call_connects_is_noticed_every_time(device, browser):
    results = [door_hangs_up_at_connect(device, browser) for _ in range(QUICK_CALLS)]
    print(f"\nthe door's hang-ups at connect noticed by the page ((endedBy, ms) per call): {results}")
    wrong = [result for result in results if result[0] != "remote" or not 0 <= result[1] < HANGUP_NOTICE_MS]
    assert not wrong, f"the door's hang-ups missed or late ((endedBy, ms) per call): {results}"


def test_the_door_hanging_up_on_a_caller_without_a_data_channel_is_noticed(device, browser):
    """No channel to close at all (a PeerJS 1.4-shaped offer): only the LEAVE tells the page."""
    results = [door_hangs_up_at_connect(device, browser, before_join=NO_CALL_CHANNEL_JS) for _ in range(3)]
    print(f"\nthe door's hang-ups on a caller without a channel ((endedBy, ms) per call): {results}")
    wrong = [result for result in results if result[0] != "remote" or not 0 <= result[1] < HANGUP_NOTICE_MS]
    assert not wrong, f"the door's hang-ups missed or late ((endedBy, ms) per call): {results}"
