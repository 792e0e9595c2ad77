"""Sending files between two pages in a call, over the call's chat data connection: a 5 MB file arrives
intact (SHA-256 of what the browser downloads), with progress on both sides; a file over the limit is refused
in words, by the sender and by a receiver that is offered one anyway; a transfer cancelled from either side
stops on both, and the call, the chat and the next file go on.
"""

import hashlib
import os
from pathlib import Path

from selenium.webdriver.common.by import By

from polling import poll
from test_call import click, wait_page_state
from test_web_client import (CALL_TIMEOUT, PAGE_TIMEOUT, both_in_call, create_room, hooks, phone, screenshot,
                             send_chat, wait_chat, wait_hook, wait_incoming)

TRANSFER_TIMEOUT = 60.0  # 5 MB through SCTP on a loaded two-core machine
MAX_FILE_BYTES = 25 * 1000 * 1000  # js/file-share.js

# Every 'intercom:file' event as [id, direction, state, bytes, wall-clock ms].
RECORD_EVENTS_JS = """
window.__fileEvents = [];
document.addEventListener('intercom:file', (event) => {
  const { id, direction, state, bytes } = event.detail;
  window.__fileEvents.push([id, direction, state, bytes, performance.timeOrigin + performance.now()]);
});
"""

# Presses the transfer's Cancel once `direction`'s first chunk has moved (the way a person would, mid-way).
CANCEL_MIDWAY_JS = """
const direction = arguments[0];
document.addEventListener('intercom:file', function cancelOnce(event) {
  const { id, state, bytes } = event.detail;
  if (event.detail.direction !== direction || !['sending', 'receiving'].includes(state) || bytes === 0) return;
  document.removeEventListener('intercom:file', cancelOnce);
  document.querySelector(`.file-transfer[data-id="${id}"] .file-cancel`).click();
});
"""

# A second data connection to the call's peer (test hook), offering a file over the limit: the receiving
# page must refuse it itself, whatever the sender checked.
OFFER_TOO_LARGE_JS = """
const [size, done] = arguments;
const conn = window.intercomTest.openDataConnection({ serialization: 'binary' });
conn.addEventListener('data', (event) => { if (event.detail && event.detail.t === 'file-refuse') done(event.detail); });
conn.addEventListener('open', () => conn.send({ t: 'file-offer', id: 'f_too_large', name: 'huge.iso', size, type: '' }));
setTimeout(() => done(null), 15000);
"""


def transfer(driver, direction, name):
    found = [t for t in hooks(driver).get("files", []) if t["direction"] == direction and t["name"] == name]
    return found[-1] if found else None


def wait_transfer(driver, direction, name, state, timeout=TRANSFER_TIMEOUT):
    return poll(lambda: (t := transfer(driver, direction, name)) and t["state"] == state and t, timeout,
                interval=0.1, message=lambda: f"{direction} {name} never became {state}: "
                                              f"{transfer(driver, direction, name)}")


def send_file(driver, path):
    if driver.find_element(By.ID, "chat").get_attribute("hidden") is not None:
        click(driver, "chat-toggle")
    poll(lambda: driver.find_element(By.ID, "file-pick").is_displayed(), CALL_TIMEOUT,
         message=lambda: f"no Send a file control: {hooks(driver)}")
    driver.find_element(By.ID, "file-input").send_keys(str(path))


def progress_of(driver, transfer_id, state):
    events = driver.execute_script("return window.__fileEvents;")
    return [bytes_ for id_, _, state_, bytes_, _ in events if id_ == transfer_id and state_ == state]


def event_time(driver, transfer_id, state, first=True):
    """Wall-clock ms of the first (or last) event of the transfer in `state`."""
    times = [at for id_, _, state_, _, at in driver.execute_script("return window.__fileEvents;")
             if id_ == transfer_id and state_ == state]
    return times[0] if first else times[-1]


def start_call(device, host, guest):
    code = create_room(host, device)
    guest.get(f"http://localhost:{device.port}/?room={code}")
    wait_page_state(guest, "ready", PAGE_TIMEOUT)
    click(guest, "join")
    wait_incoming(host)
    click(host, "answer")
    both_in_call(host, guest)
    wait_hook(host, "peerTakesFiles", True, CALL_TIMEOUT)
    wait_hook(guest, "peerTakesFiles", True, CALL_TIMEOUT)
    for driver in (host, guest):
        driver.execute_script(RECORD_EVENTS_JS)


def test_a_5_mb_file_crosses_intact_with_progress(device, browser, more_browsers, tmp_path):
    host, guest = phone(browser), phone(more_browsers())
    downloads = Path(tmp_path) / "downloads"
    downloads.mkdir()
    host.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    start_call(device, host, guest)

    source = Path(tmp_path) / "holiday photos.bin"
    source.write_bytes(os.urandom(5 * 1024 * 1024))
    size = source.stat().st_size
    send_file(guest, source)

    received = wait_transfer(host, "in", source.name, "received")
    sent = wait_transfer(guest, "out", source.name, "sent")
    assert received["bytes"] == size and sent["bytes"] == size, (received, sent)

    # Progress on both sides: many steps between nothing and everything, never going back.
    for driver, state in ((guest, "sending"), (host, "receiving")):
        steps = progress_of(driver, sent["id"], state)
        middle = [b for b in steps if 0 < b < size]
        assert len(middle) >= 10, f"{state}: only {len(middle)} progress steps: {steps[:20]}"
        assert steps == sorted(steps), f"{state} progress went backwards"

    # Measured, not asserted: the first chunk leaving to the whole file at the receiver (both pages share a clock).
    seconds = (event_time(host, sent["id"], "received") - event_time(guest, sent["id"], "sending")) / 1000
    print(f"\nfile transfer page to page: {size / 1e6:.1f} MB in {seconds:.2f} s ({size / 1e6 / seconds:.1f} MB/s)")

    # The receiver is offered a download link with the name and size; what it downloads is the same file.
    assert host.find_element(By.ID, "chat-unread").text == "1", "the Chat button does not count the new file"
    click(host, "chat-toggle")
    link = host.find_element(By.CSS_SELECTOR, f'.file-transfer[data-id="{sent["id"]}"] a.file-download')
    assert link.text == f"Download {source.name} (5.2 MB)", link.text
    assert link.get_attribute("download") == source.name
    screenshot(host, "file-received")
    link.click()
    target = downloads / source.name
    poll(lambda: target.exists() and target.stat().st_size == size, TRANSFER_TIMEOUT,
         message=lambda: f"the download never completed: {sorted(p.name for p in downloads.iterdir())}")
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()
    assert hooks(host)["state"] == "in-call" and hooks(guest)["state"] == "in-call"


def test_over_the_limit_is_refused_and_cancel_leaves_both_usable(device, browser, more_browsers, tmp_path):
    host, guest = browser, more_browsers()
    start_call(device, host, guest)

    # The sender refuses a file over the limit before anything is sent, and says why.
    too_large = Path(tmp_path) / "film.mkv"
    with too_large.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)
    send_file(guest, too_large)
    refused = wait_transfer(guest, "out", too_large.name, "refused", CALL_TIMEOUT)
    assert refused["bytes"] == 0
    note = guest.find_element(By.ID, "file-note").text
    assert note == "Refused: film.mkv is 25.0 MB; files of up to 25.0 MB can be sent.", note
    assert transfer(host, "in", too_large.name) is None, "the receiver heard of a refused file"

    # A receiver offered one anyway (a peer that skips the check) refuses it itself, with its limit.
    reply = guest.execute_async_script(OFFER_TOO_LARGE_JS, 40 * 1000 * 1000)
    assert reply == {"t": "file-refuse", "id": "f_too_large", "reason": "too-large", "limit": MAX_FILE_BYTES}, reply
    assert wait_transfer(host, "in", "huge.iso", "refused", 5)["text"].startswith("Refused: huge.iso is 40.0 MB")

    big = Path(tmp_path) / "archive.tar"
    with big.open("wb") as file:
        file.truncate(20 * 1000 * 1000)

    # The receiver cancels mid-way: both sides stop.
    host.execute_script(CANCEL_MIDWAY_JS, "in")
    send_file(guest, big)
    assert wait_transfer(host, "in", big.name, "cancelled")["bytes"] < big.stat().st_size
    assert wait_transfer(guest, "out", big.name, "cancelled-remote")["bytes"] < big.stat().st_size

    # The sender cancels mid-way: both sides stop.
    guest.execute_script(CANCEL_MIDWAY_JS, "out")
    send_file(guest, big)
    poll(lambda: len([t for t in hooks(guest)["files"] if t["name"] == big.name]) == 2, 5,
         message="the second transfer did not start")
    assert wait_transfer(guest, "out", big.name, "cancelled")["bytes"] < big.stat().st_size
    assert wait_transfer(host, "in", big.name, "cancelled-remote")["bytes"] < big.stat().st_size

    # Both sides still work: a file each way, and chat.
    small = Path(tmp_path) / "note.txt"
    small.write_bytes(b"see you at seven\n" * 1000)
    send_file(host, small)
    assert wait_transfer(guest, "in", small.name, "received")["bytes"] == small.stat().st_size
    send_file(guest, small)
    assert wait_transfer(host, "in", small.name, "received")["bytes"] == small.stat().st_size
    send_chat(guest, "Did it arrive?")
    wait_chat(host, ("them", "Did it arrive?"))
    assert hooks(host)["state"] == "in-call" and hooks(guest)["state"] == "in-call"
