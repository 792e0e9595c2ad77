"""The web client end to end: browser-to-browser calls and chat through the device's built-in server, rooms
created in a browser, join by link, watch-only, and the states a person reads (not found, declined, busy,
signaling lost, camera denied).

Real headless Chromium pages (fake camera and microphone) in the test namespace; the device binary provides
signaling and serves the page. The tests write phone-size (390×844) screenshots of the main states into
a scratch folder; `UPDATE_SCREENSHOTS=1` writes them into docs/web/ (committed; shown in docs/web.md).
"""

import itertools
import os
import tempfile
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import REPO_ROOT
from polling import poll
from test_call import click, page_state, page_test_hooks, remote_video, ring, wait_page_state

# Tests write their screenshots to a scratch folder; UPDATE_SCREENSHOTS=1 refreshes the committed ones.
SCREENSHOTS = (REPO_ROOT / "docs" / "web") if os.environ.get("UPDATE_SCREENSHOTS") == "1" \
    else Path(tempfile.gettempdir()) / "intercom-web-screenshots"
PAGE_TIMEOUT = 15.0
CALL_TIMEOUT = 20.0
EXPIRE_TIMEOUT = 12.0  # the server's 5 s queue + its 1 s sweep, with room to spare
HANGUP_NOTICE_MS = 1000


# --- helpers ---------------------------------------------------------------------------------------------


def phone(driver):
    """Emulate a phone in portrait: a 390×844 CSS-pixel viewport, touch, mobile."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    return driver


def screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"could not write {path}"
    return path


def hooks(driver):
    return page_test_hooks(driver) or {}


def wait_hook(driver, key, wanted, timeout):
    poll(lambda: hooks(driver).get(key) == wanted, timeout, interval=0.1,
         message=lambda: f"intercomTest.{key} never became {wanted!r}: {hooks(driver)}")


def text_of(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def base_url(device):
    return f"http://localhost:{device.port}/"


def create_room(driver, device):
    """Open the page, create a room; return its code (the page then hosts intercom-<code>)."""
    driver.get(base_url(device))
    wait_page_state(driver, "ready", PAGE_TIMEOUT)
    click(driver, "create")
    wait_page_state(driver, "hosting", PAGE_TIMEOUT)
    code = hooks(driver)["room"]
    assert code and len(code) == 5 and code.isdigit(), hooks(driver)
    assert hooks(driver)["peerId"] == f"intercom-{code}", hooks(driver)
    assert text_of(driver, "room-code") == code
    return code


def wait_incoming(driver):
    wait_page_state(driver, "incoming", CALL_TIMEOUT)
    poll(lambda: driver.execute_script("return document.getElementById('incoming').open"), 2,
         message="the incoming-call dialog is not open")


def frames_rise(driver, element="remote", seconds=2.0):
    """The <video>'s decoded frame count rises over `seconds` and it has a picture."""
    js = f"""const v = document.getElementById('{element}');
             return {{w: v.videoWidth, f: v.getVideoPlaybackQuality().totalVideoFrames}};"""
    poll(lambda: driver.execute_script(js)["w"] > 0, 10,
         message=lambda: f"<video id={element}> has no picture: {driver.execute_script(js)}")
    first = driver.execute_script(js)["f"]
    poll(lambda: driver.execute_script(js)["f"] > first + 5, seconds + 5,
         message=lambda: f"<video id={element}> frames stayed near {first}: {driver.execute_script(js)}")


# Peak sample magnitude of the remote stream over `ms`, as a person's speaker would get it.
AUDIO_PEAK_JS = """
const [ms, done] = arguments;
const video = document.getElementById('remote');
const stream = video && video.srcObject;
if (!stream || stream.getAudioTracks().length === 0) { done(-1); return; }
const context = new AudioContext();
const source = context.createMediaStreamSource(new MediaStream(stream.getAudioTracks()));
const analyser = context.createAnalyser();
analyser.fftSize = 2048;
source.connect(analyser);
const samples = new Float32Array(analyser.fftSize);
let peak = 0;
const timer = setInterval(() => {
  analyser.getFloatTimeDomainData(samples);
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
}, 20);
setTimeout(() => { clearInterval(timer); context.close(); done(peak); }, ms);
"""


def audio_peak(driver, ms=1500):
    return driver.execute_async_script(AUDIO_PEAK_JS, ms)


def hears_sound(driver):
    """The remote audio carries sound (Chromium's fake microphone beeps; silence stays at 0)."""
    peaks = []
    poll(lambda: peaks.append(audio_peak(driver)) or peaks[-1] > 0.05, 10, interval=0,
         message=lambda: f"the remote audio is silent: peaks {peaks}")


GUM_SPY_JS = """
window.__gumCalls = 0;
const md = navigator.mediaDevices;
if (md && md.getUserMedia) {
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = (...args) => { window.__gumCalls += 1; return original(...args); };
}
"""


DENY_MEDIA_JS = """
window.__gumCalls = 0;
navigator.mediaDevices.getUserMedia = async () => {
  window.__gumCalls += 1;
  throw new DOMException('Permission denied', 'NotAllowedError');
};
"""


def spy_on_get_user_media(driver):
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": GUM_SPY_JS})


def both_in_call(host, guest):
    wait_page_state(guest, "in-call", CALL_TIMEOUT)
    wait_page_state(host, "in-call", CALL_TIMEOUT)


def send_chat(driver, text):
    if driver.find_element(By.ID, "chat").get_attribute("hidden") is not None:
        click(driver, "chat-toggle")
    poll(lambda: hooks(driver).get("chatOpen"), CALL_TIMEOUT,
         message=lambda: f"the chat data connection never opened: {hooks(driver)}")
    field = driver.find_element(By.ID, "chat-input")
    field.send_keys(text)
    field.send_keys(Keys.ENTER)


def chat_texts(driver, list_id="chat-log"):
    return driver.execute_script(
        f"return [...document.querySelectorAll('#{list_id} .message')].map("
        "m => [m.classList.contains('me') ? 'me' : m.classList.contains('them') ? 'them' : 'status',"
        " m.querySelector('.text').textContent]);")


def wait_chat(driver, entry, list_id="chat-log"):
    poll(lambda: list(entry) in chat_texts(driver, list_id), 10,
         message=lambda: f"#{list_id} never showed {entry}: {chat_texts(driver, list_id)}")


# --- tests -----------------------------------------------------------------------------------------------


def test_binarypack_bytes_match_peerjs(device, browser):
    """The page's own BinaryPack gives the bytes of the notes' examples (checked against upstream there),
    decodes them back, and chunks a large value the PeerJS way."""
    browser.get(base_url(device))
    result = browser.execute_async_script("""
        const done = arguments[0];
        import('/js/binarypack.js').then((bp) => {
          const hex = (v) => [...bp.pack(v)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
          const cases = [[{t: 'chat', n: 2}, '82 b1 74 b4 63 68 61 74 b1 6e 02'], [200, 'cc c8'],
            [-100, 'd0 9c'], [70000, 'ce 00 01 11 70'], [-40000, 'd2 ff ff 63 c0'],
            [2 ** 32 + 5, 'd3 00 00 00 01 00 00 00 05'], [1.5, 'cb 3f f8 00 00 00 00 00 00'],
            [null, 'c0'], [undefined, 'c0'], [true, 'c3'], ['é', 'b2 c3 a9'], [new Uint8Array([1, 2]), 'a2 01 02']];
          const wrong = cases.filter(([v, want]) => hex(v) !== want).map(([v, want]) => [String(v), hex(v), want]);
          const value = {t: 'chat', text: 'x'.repeat(40000) + 'é', list: [1, -1, 1.25, null, false, 'ü']};
          const pieces = bp.chunk(bp.pack(value), 7);
          const assembler = new bp.ChunkAssembler();
          let whole = null;
          for (const piece of pieces.reverse()) whole = assembler.add(bp.unpack(piece)) || whole;
          const back = bp.unpack(whole);
          const raw = bp.unpack(bp.pack(new Uint8Array([9, 8])));
          done({wrong, pieces: pieces.length, same: JSON.stringify(back) === JSON.stringify(value),
                raw: raw instanceof ArrayBuffer && [...new Uint8Array(raw)].join(',')});
        }, (e) => done({error: String(e)}));
    """)
    assert result.get("wrong") == [], result
    assert result["pieces"] == 3, result  # 40 000+ packed bytes in 16 300-byte pieces
    assert result["same"] is True, result
    assert result["raw"] == "9,8", result


def test_browser_to_browser_call_chat_and_share(device, browser, more_browsers):
    host = phone(browser)
    guest = phone(more_browsers())

    # The host creates a room and shares it.
    code = create_room(host, device)
    link = hooks(host)["peerId"] and host.find_element(By.ID, "room-link").get_attribute("href")
    assert link == f"{base_url(device)}?room={code}", link
    host.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": base_url(device).rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    clipboard = "return navigator.clipboard.readText();"
    click(host, "copy-link")
    wait_hook(host, "lastShare", "copied-link", 5)
    assert host.execute_script(clipboard) == link
    click(host, "copy-message")
    wait_hook(host, "lastShare", "copied-message", 5)
    message = host.execute_script(clipboard)
    assert link in message and code in message, message
    screenshot(host, "room-created")

    # The guest opens the link: the code is filled in and one tap joins.
    guest.get(link)
    wait_page_state(guest, "ready", PAGE_TIMEOUT)
    assert text_of(guest, "prompt") == f"Join room {code} now?"
    assert not guest.find_element(By.ID, "code").is_displayed()
    screenshot(guest, "join-prompt")
    click(guest, "join")

    wait_incoming(host)
    wait_hook(guest, "callPhase", "ringing", CALL_TIMEOUT)
    screenshot(host, "incoming-call")
    screenshot(guest, "ringing")
    click(host, "answer")
    both_in_call(host, guest)

    # Each sees and hears the other.
    frames_rise(host)
    frames_rise(guest)
    hears_sound(host)
    hears_sound(guest)
    frames_rise(guest, "local")

    # Chat both ways over the PeerJS data connection.
    send_chat(guest, "Hello from the guest")
    wait_chat(host, ("them", "Hello from the guest"))
    assert host.find_element(By.ID, "chat-unread").text == "1"
    send_chat(host, "Hi, come in")
    wait_chat(guest, ("them", "Hi, come in"))
    assert ["me", "Hello from the guest"] in chat_texts(guest)

    # The timer counts.
    poll(lambda: hooks(guest).get("durationSeconds", 0) >= 2, 5, message=lambda: f"timer stuck: {hooks(guest)}")
    assert text_of(guest, "timer").startswith("0:0")
    screenshot(guest, "in-call-chat")
    click(host, "chat-toggle")  # close the host's chat to show the plain call
    screenshot(host, "in-call")

    # Mute: the host hears silence from the guest, then sound again.
    click(guest, "mute")
    assert guest.find_element(By.ID, "mute").get_attribute("aria-pressed") == "true"
    poll(lambda: audio_peak(host, 1200) < 0.01, 8, interval=0,
         message="the host still hears the guest after the guest pressed Mute")
    click(guest, "mute")
    hears_sound(host)

    # The guest ends the call; the host notices within a second.
    click(guest, "hangup")
    hangup_at = poll(lambda: hooks(guest).get("hangupAt"), 2, message="no hangupAt after #hangup")
    ended = poll(lambda: (h := hooks(host)).get("endedAt") and h, 5,
                 message=lambda: f"the host never noticed the hang-up: {hooks(host)}")
    assert ended["endedBy"] == "remote", ended
    assert 0 <= ended["endedAt"] - hangup_at < HANGUP_NOTICE_MS, (ended, hangup_at)
    wait_page_state(guest, "ended", 2)

    # The chat is still there after a reload of the link.
    guest.get(link)
    wait_page_state(guest, "ready", PAGE_TIMEOUT)
    assert guest.find_element(By.ID, "history-panel").is_displayed()
    assert chat_texts(guest, "history-log") == [["me", "Hello from the guest"], ["them", "Hi, come in"]]


def test_watch_only_join_never_asks_for_camera_or_microphone(device, browser):
    page = phone(browser)
    spy_on_get_user_media(page)
    link = ring(device)
    page.get(link)
    wait_page_state(page, "ready", PAGE_TIMEOUT)
    assert page.execute_script("return window.__gumCalls") == 0, "the getUserMedia spy is not installed"
    click(page, "watch")
    wait_page_state(page, "in-call", CALL_TIMEOUT)
    frames_rise(page)
    hears_sound(page)
    assert page.execute_script("return window.__gumCalls") == 0, "watch-only asked for camera or microphone"
    assert hooks(page)["localMedia"] == "none"
    # The door receives nothing from the page.
    call = device.state()["call"]
    assert call and call["videoFramesDecoded"] == 0 and call["audioBuffersDecoded"] == 0, call
    assert page.find_element(By.ID, "talk").is_displayed()
    screenshot(page, "watch-only")
    click(page, "hangup")
    wait_page_state(page, "ended", 5)


def test_camera_and_microphone_denied_falls_back_to_watch_only(device, browser):
    page = phone(browser)
    link = ring(device)
    # The person taps "Block": headless Chromium's fake permission UI always allows, so the page's
    # getUserMedia answers the way a blocked prompt does (NotAllowedError), and counts the requests.
    page.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": DENY_MEDIA_JS})
    page.get(link)
    wait_page_state(page, "ready", PAGE_TIMEOUT)
    click(page, "join")
    wait_page_state(page, "in-call", CALL_TIMEOUT)
    frames_rise(page)
    assert hooks(page)["localMedia"] == "none", hooks(page)
    assert page.execute_script("return window.__gumCalls") == 1, "after a refusal the page must not ask again"
    note = text_of(page, "media-note")
    assert "blocked" in note and "watching only" in note, note
    assert page.find_element(By.ID, "talk").is_displayed()
    screenshot(page, "camera-denied")


def test_room_not_found_says_so(device, browser):
    page = phone(browser)
    page.get(f"{base_url(device)}?room=98765")  # nobody registered intercom-98765
    wait_page_state(page, "ready", PAGE_TIMEOUT)
    click(page, "watch")
    poll(lambda: page_state(page) == "error", EXPIRE_TIMEOUT, interval=0.2,
         message=lambda: f"no error after calling an absent room: {hooks(page)}")
    assert hooks(page)["endReason"] == "unreachable", hooks(page)
    assert text_of(page, "status") == "Room 98765 was not found or has expired."
    screenshot(page, "room-not-found")


def test_callee_declines(device, browser, more_browsers):
    host = phone(browser)
    guest = phone(more_browsers())
    code = create_room(host, device)

    # The guest types the code by hand.
    guest.get(base_url(device))
    wait_page_state(guest, "ready", PAGE_TIMEOUT)
    guest.find_element(By.ID, "code").send_keys(code)
    click(guest, "join-audio")
    wait_incoming(host)
    assert "someone with your room code" in text_of(host, "incoming-from")
    click(host, "decline")
    poll(lambda: page_state(guest) == "ended", 5, message=lambda: f"guest did not end: {hooks(guest)}")
    assert hooks(guest)["endReason"] == "declined", hooks(guest)
    assert text_of(guest, "status") == "The call was declined."
    wait_page_state(host, "hosting", 2)
    screenshot(guest, "declined")


def test_third_caller_gets_busy(device, browser, more_browsers):
    host = browser
    first = more_browsers()
    third = phone(more_browsers())
    code = create_room(host, device)
    for page in (first, third):
        page.get(f"{base_url(device)}?room={code}")
        wait_page_state(page, "ready", PAGE_TIMEOUT)

    click(first, "join-audio")
    wait_incoming(host)
    click(host, "answer-audio")
    both_in_call(host, first)

    click(third, "join-audio")
    poll(lambda: page_state(third) == "ended", 10, message=lambda: f"third caller not refused: {hooks(third)}")
    assert hooks(third)["endReason"] == "busy", hooks(third)
    assert text_of(third, "status") == f"Busy: room {code} is already in a call."
    screenshot(third, "busy")
    # The call in progress is untouched.
    assert page_state(host) == "in-call" and page_state(first) == "in-call"
    hears_sound(host)


def test_signaling_lost_reconnects_with_the_same_room(device, browser, more_browsers):
    host = phone(browser)
    code = create_room(host, device)
    device.stop()
    wait_hook(host, "signaling", "reconnecting", 5)
    assert host.find_element(By.ID, "signal-banner").is_displayed()
    screenshot(host, "reconnecting")

    device.start()
    wait_hook(host, "signaling", "open", 20)
    assert not host.find_element(By.ID, "signal-banner").is_displayed()
    assert hooks(host)["peerId"] == f"intercom-{code}"

    # The room is reachable again under the same code.
    guest = more_browsers()
    guest.get(f"{base_url(device)}?room={code}")
    wait_page_state(guest, "ready", PAGE_TIMEOUT)
    click(guest, "watch")
    wait_incoming(host)


# Connections made from now on hear of their state changes 1.5 s late: the host's side of the replacing call
# connects well after the guest's, which hangs up the watch-only call meanwhile.
LATE_CONNECTION_STATE_JS = """
const addListener = RTCPeerConnection.prototype.addEventListener;
RTCPeerConnection.prototype.addEventListener = function (type, listener, options) {
  if (type !== 'connectionstatechange') return addListener.call(this, type, listener, options);
  return addListener.call(this, type, (event) => setTimeout(() => listener.call(this, event), 1500), options);
};
"""


@pytest.mark.parametrize("host_side", ["prompt", "connects-late"])
def test_watch_only_guest_switches_to_talking(device, browser, more_browsers, host_side):
    host = browser
    guest = phone(more_browsers())
    code = create_room(host, device)
    guest.get(f"{base_url(device)}?room={code}")
    wait_page_state(guest, "ready", PAGE_TIMEOUT)
    click(guest, "watch")
    wait_incoming(host)
    click(host, "answer")
    both_in_call(host, guest)
    frames_rise(guest)
    first_connection = hooks(guest)["connectionId"]
    if host_side == "connects-late":
        host.execute_script(LATE_CONNECTION_STATE_JS)

    click(guest, "talk")
    poll(lambda: hooks(guest).get("connectionId") != first_connection, CALL_TIMEOUT,
         message=lambda: f"the guest never switched calls: {hooks(guest)}")
    assert hooks(guest)["localMedia"] == "audio+video"
    # Now the host sees and hears the guest, and both are still in the call.
    frames_rise(host)
    hears_sound(host)
    frames_rise(guest)
    assert page_state(host) == "in-call" and page_state(guest) == "in-call"
