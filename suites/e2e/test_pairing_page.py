"""The page's side of paired browsers in real headless Chromium against the real device binary: the pairing
MACs (WebCrypto on a secure page, the page's own SHA-256 on plain http) against Python's hmac, the stable peer
ID, the pairing prompt and its refusals, what reaches the stable ID, and the service worker showing a pushed
ring. The two-browser pairing and ringing flow with the device is suites/e2e/test_pairing.py.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.request

import pytest
import websocket
from selenium.webdriver.common.by import By

from conftest import REPO_ROOT
from polling import poll
from test_call import (CALL_TIMEOUT, PAGE_TIMEOUT, check_browser_video_rises, check_device_media_rises, click,
                       decode_qr, page_test_hooks, wait_page_state)
from test_web_client import phone, screenshot

PAIR_TIMEOUT = 25.0  # the page's own 20 s, with the server's EXPIRE well inside it


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mac(key, text):
    return b64url(hmac.new(key, text.encode(), hashlib.sha256).digest())


def hooks(driver):
    return page_test_hooks(driver) or {}


def random_home():
    return f"intercom-home-{secrets.token_hex(16)}"


def pair_link(device, home, token, host="localhost"):
    return f"http://{host}:{device.port}/?pair={home}#p={token}"


def wait_registered(driver):
    poll(lambda: hooks(driver).get("signaling") == "open", PAGE_TIMEOUT,
         message=lambda: f"the page never registered: {hooks(driver)}")
    return hooks(driver)["peerId"]


# --- the MACs ------------------------------------------------------------------------------------------------

FP_A = ":".join(f"{(n * 37 + 11) % 256:02x}" for n in range(32))  # lower case on purpose
FP_B = ":".join(f"{(n * 53 + 7) % 256:02X}" for n in range(32))

PAGE_MACS_JS = """
const [v, done] = arguments;
(async () => {
  const p = await import('/js/pairing-proof.js');
  const fps = p.connectionFingerprints(v.offerSdp, v.answerSdp);
  const got = {
    secure: isSecureContext, subtle: !!(globalThis.crypto && crypto.subtle), fps,
    none: p.sdpFingerprint('v=0\\r\\na=fingerprint:sha-1 AA:BB\\r\\n'),
    short: p.sdpFingerprint('a=fingerprint:sha-256 AA:BB\\r\\n'),
    pair: await p.pairingMac('pair', v.token, fps),
    paired: await p.pairingMac('paired', v.token, fps, v.credential),
    hello: await p.pairingMac('hello', v.credential, fps),
    ringReply: await p.pairingMac('ringReply', v.credential, fps, v.link),
  };
  got.holds = {
    paired: await p.pairingMacHolds(v.paired, 'paired', v.token, fps, v.credential),
    ringReply: await p.pairingMacHolds(v.ringReply, 'ringReply', v.credential, fps, v.link),
    otherLink: await p.pairingMacHolds(v.ringReply, 'ringReply', v.credential, fps, v.link + 'x'),
    swapped: await p.pairingMacHolds(v.paired, 'paired', v.token, {offerFP: fps.answerFP, answerFP: fps.offerFP},
                                     v.credential),
    otherKey: await p.pairingMacHolds(v.paired, 'paired', v.credential, fps, v.credential),
    truncated: await p.pairingMacHolds(v.paired.slice(0, 40), 'paired', v.token, fps, v.credential),
    garbage: await p.pairingMacHolds('not base64url!', 'paired', v.token, fps, v.credential),
  };
  done(got);
})().catch((e) => done({error: String(e && e.stack || e)}));
"""


@pytest.mark.parametrize("origin", ["localhost", "10.200.0.1"])
def test_the_pairing_macs_are_what_python_computes(device, browser, origin):
    """pair, paired, hello and ring-reply MACs over the fingerprints of an offer and an answer, as the
    device computes them (docs/pairing.md), checked against Python's hmac on a secure page
    (WebCrypto) and on plain http to an address (the page's sha256.js, what a phone on the LAN gets)."""
    token = b64url(bytes(range(16)))
    credential = b64url(bytes(range(100, 132)))
    link = "http://door.local:8080/?room=12345#k=AAECAwQFBgcICQoLDA0ODw"
    offer_sdp = (f"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-1 00:11\r\n"
                 f"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:sha-256 {FP_A}\r\n"
                 f"a=fingerprint:sha-256 {FP_B}\r\n")
    answer_sdp = f"v=0\r\na=fingerprint:sha-256 {FP_B}\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
    offer_fp, answer_fp = FP_A.upper(), FP_B
    key_token = base64.urlsafe_b64decode(token + "==")
    key_credential = base64.urlsafe_b64decode(credential + "==")
    want = {
        "pair": mac(key_token, f"intercom-pair:{offer_fp}|{answer_fp}"),
        "paired": mac(key_token, f"intercom-paired:{offer_fp}|{answer_fp}|{credential}"),
        "hello": mac(key_credential, f"intercom-ring:{offer_fp}|{answer_fp}"),
        "ringReply": mac(key_credential, f"intercom-ring-reply:{offer_fp}|{answer_fp}|{link}"),
    }

    browser.get(f"http://{origin}:{device.port}/")
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    got = browser.execute_async_script(PAGE_MACS_JS, {
        "token": token, "credential": credential, "link": link, "offerSdp": offer_sdp, "answerSdp": answer_sdp,
        "paired": want["paired"], "ringReply": want["ringReply"]})
    assert "error" not in got, got
    assert got["subtle"] is (origin == "localhost"), got
    assert got["fps"] == {"offerFP": offer_fp, "answerFP": answer_fp}, got
    assert got["none"] is None and got["short"] is None, got
    assert {k: got[k] for k in want} == want
    assert got["holds"] == {"paired": True, "ringReply": True, "otherLink": False, "swapped": False,
                            "otherKey": False, "truncated": False, "garbage": False}, got["holds"]


VECTORS_JS = """
const [v, done] = arguments;
(async () => {
  const p = await import('/js/pairing-proof.js');
  const fps = p.connectionFingerprints(v.offerSDP, v.answerSDP);
  const keys = {token: v.token, credential: v.credential};
  const extras = {pair: undefined, paired: v.credential, hello: undefined, ringReply: v.link};
  const macs = {};
  const holds = {};
  for (const [purpose, vector] of Object.entries(v.macs)) {
    macs[purpose] = await p.pairingMac(purpose, keys[vector.key], fps, extras[purpose]);
    holds[purpose] = await p.pairingMacHolds(vector.mac, purpose, keys[vector.key], fps, extras[purpose]);
  }
  done({fps, macs, holds});
})().catch((e) => done({error: String(e && e.stack || e)}));
"""


def test_the_pairing_macs_match_the_devices_vectors(device, browser):
    """suites/vectors/pairing.json, the fixed vectors the device's Swift tests read too."""
    vectors = json.loads((REPO_ROOT / "suites" / "vectors" / "pairing.json").read_text())
    browser.get(f"http://localhost:{device.port}/")
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    got = browser.execute_async_script(VECTORS_JS, vectors)
    assert "error" not in got, got
    assert got["fps"] == {"offerFP": vectors["offerFP"], "answerFP": vectors["answerFP"]}, got
    assert got["macs"] == {purpose: vector["mac"] for purpose, vector in vectors["macs"].items()}, got
    assert set(got["macs"]) == {"pair", "paired", "hello", "ringReply"}
    assert all(got["holds"].values()), got


# --- the pairing page ----------------------------------------------------------------------------------------


def test_the_pairing_prompt_keeps_a_stable_id_and_drops_the_token_from_the_address_bar(device, browser):
    home, token = random_home(), b64url(secrets.token_bytes(16))
    phone(browser).get(pair_link(device, home, token))
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    peer_id = wait_registered(browser)

    # The token left the address bar (and the history entry) at once; the home ID stays for the prompt.
    assert browser.current_url == f"http://localhost:{device.port}/?pair={home}", browser.current_url
    assert token not in browser.execute_script("return location.href + history.length")

    # "Pair this browser with the door?" with a name field named after the browser.
    assert browser.find_element(By.ID, "pair-title").text == "Pair this browser with the door?"
    assert browser.find_element(By.ID, "pair-name").get_attribute("value") == "Chrome on Linux"
    assert not browser.find_element(By.ID, "join").is_displayed()
    assert browser.find_element(By.ID, "pair").is_enabled()
    screenshot(browser, "pair-prompt")

    # The stable ID: made once, kept in localStorage, registered while the page is open; a reload keeps it.
    assert re.fullmatch(r"intercom-hh-[0-9a-f]{32}", peer_id), peer_id
    assert browser.execute_script("return localStorage.getItem('intercom.peerId')") == peer_id
    assert hooks(browser).get("ringable") is True, hooks(browser)
    browser.refresh()
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    assert wait_registered(browser) == peer_id
    assert browser.find_element(By.ID, "pair").is_enabled()  # the token survived the reload in this tab

    # A browser that is not pairing or paired keeps registering under random IDs.
    browser.get(f"http://localhost:{device.port}/")
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    assert wait_registered(browser) != peer_id


def test_an_unreachable_door_is_said_plainly_and_nothing_is_stored(device, browser):
    """Nobody holds this home ID on the device's server: the server answers EXPIRE and the page says so."""
    home = random_home()
    browser.get(pair_link(device, home, b64url(secrets.token_bytes(16))))
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    wait_registered(browser)
    name = browser.find_element(By.ID, "pair-name")
    name.clear()
    name.send_keys("Kitchen tablet")
    click(browser, "pair")
    poll(lambda: hooks(browser).get("pairing") == "refused", PAIR_TIMEOUT,
         message=lambda: f"the pairing never failed: {hooks(browser)}")
    assert hooks(browser)["pairRefusal"] == "unreachable", hooks(browser)
    result = browser.find_element(By.ID, "pair-result")
    assert result.text == "The door is unreachable. Is this phone on the same network as the door?"
    assert browser.execute_script("return localStorage.getItem('intercom.pairing')") is None
    assert browser.find_element(By.ID, "pair").is_enabled()  # the token was not spent: try again


def test_an_incomplete_pairing_link_says_so(device, browser):
    browser.get(f"http://localhost:{device.port}/?pair=intercom-home-1234")
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    assert browser.find_element(By.ID, "pair-result").text == \
        "This pairing link is not complete. Scan the pairing code on the door again."
    assert not browser.find_element(By.ID, "pair-form").is_displayed()


KNOCK_ON_STABLE_ID_JS = """
const [target, done] = arguments;
(async () => {
  const { DataConnection } = await import('/js/data-connection.js');
  const { PeerJSWire } = await import('/js/peerjs-wire.js');
  const { loadConfig } = await import('/js/config.js');
  const config = await loadConfig(new URL(location.href));
  const wire = new PeerJSWire(config.signaling);
  await wire.open();
  const conn = new DataConnection({wire, remoteId: target, serialization: 'json', label: 'ring',
                                   metadata: {intercom: 'ring'}});
  window.__knock = {opened: false, ended: null, answers: 0};
  conn.addEventListener('open', () => { window.__knock.opened = true; });
  conn.addEventListener('ended', (e) => { window.__knock.ended = e.detail.reason; });
  wire.route(target, conn.connectionId, (m) => { if (m.type === 'ANSWER') window.__knock.answers += 1; });
  conn.start();
  done(wire.id);
})().catch((e) => done('error: ' + (e && e.stack || e)));
"""


STRANGER_CALL_JS = """
const [target, done] = arguments;
(async () => {
  const { Call } = await import('/js/call.js');
  const { PeerJSWire } = await import('/js/peerjs-wire.js');
  const { loadConfig } = await import('/js/config.js');
  const config = await loadConfig(new URL(location.href));
  const wire = new PeerJSWire(config.signaling);
  await wire.open();
  const call = new Call({wire, remoteId: target, iceServers: []});
  window.__call = {ended: null, answered: false};
  call.addEventListener('answered', () => { window.__call.answered = true; });
  call.addEventListener('ended', (e) => { window.__call.ended = e.detail.reason; });
  call.start(new MediaStream());
  done(wire.id);
})().catch((e) => done('error: ' + (e && e.stack || e)));
"""


def test_offers_to_the_stable_id_from_anyone_but_the_door_are_ignored(device, browser, more_browsers):
    """A page under its stable ID answers nobody but its door: another browser's ring-shaped data connection
    and its media call both reach the page (it counts them) and get no ANSWER, no dialog, no ringing."""
    browser.get(pair_link(device, random_home(), b64url(secrets.token_bytes(16))))
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    stable = wait_registered(browser)
    other = more_browsers()
    other.get(f"http://localhost:{device.port}/")
    wait_page_state(other, "ready", PAGE_TIMEOUT)
    for script in (KNOCK_ON_STABLE_ID_JS, STRANGER_CALL_JS):
        assert not other.execute_async_script(script, stable).startswith("error"), other.get_log("browser")
    poll(lambda: hooks(browser).get("ignoredOffers") == 2, PAGE_TIMEOUT,
         message=lambda: f"the page did not see both offers: {hooks(browser)}")
    seen = browser.execute_script(
        "return {state: document.body.dataset.state, dialog: document.getElementById('incoming').open,"
        " ringing: document.getElementById('ringing').open};")
    assert seen == {"state": "ready", "dialog": False, "ringing": False}, seen
    knock = other.execute_script("return window.__knock")
    assert knock["opened"] is False and knock["answers"] == 0, knock
    assert other.execute_script("return window.__call.answered") is False
    assert hooks(browser)["peerId"] == stable and hooks(browser)["signaling"] == "open", hooks(browser)


# --- the service worker --------------------------------------------------------------------------------------


NOTIFICATIONS_JS = """
const done = arguments[0];
navigator.serviceWorker.ready.then((registration) => registration.getNotifications()).then(
  (list) => done(list.map((n) => ({title: n.title, body: n.body, data: n.data}))),
  (e) => done([{error: String(e)}]));
"""


class DevTools:
    """The browser's DevTools endpoint (chromedriver's debuggerAddress) with one page session attached: for
    the protocol events selenium's execute_cdp_cmd cannot return."""

    def __init__(self, driver):
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/version", timeout=5) as response:
            url = json.load(response)["webSocketDebuggerUrl"]
        self.socket = websocket.create_connection(url, timeout=10, suppress_origin=True)
        self.next_id = 0
        self.events = []
        page = next(t for t in self.call("Target.getTargets")["targetInfos"]
                    if t["type"] == "page" and t["url"] == driver.current_url)
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]

    def call(self, method, session=False, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method, matches, timeout=10):
        def find():
            for event in self.events:
                if event.get("method") == method and matches(event["params"]):
                    return event["params"]
            self.socket.settimeout(0.2)
            try:
                self.events.append(json.loads(self.socket.recv()))
            except websocket.WebSocketTimeoutException:
                pass
            return None

        return poll(find, timeout, interval=0, message=f"no {method} event")

    def close(self):
        self.socket.close()


def test_the_service_worker_shows_a_pushed_ring_and_carries_the_link(device, browser):
    origin = f"http://localhost:{device.port}"
    browser.get(f"{origin}/")
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["notifications"]})
    registered = browser.execute_async_script("""
        const done = arguments[0];
        import('/js/web-push.js').then(async (push) => {
          const reason = push.pushUnavailableReason();
          const registration = await push.registerWorker();
          done({reason, scope: registration.scope, script: registration.active && registration.active.scriptURL});
        }).catch((e) => done({error: String(e)}));""")
    assert registered == {"reason": None, "scope": f"{origin}/", "script": f"{origin}/sw.js"}, registered
    with urllib.request.urlopen(f"{origin}/sw.js", timeout=5) as response:  # a worker needs a JavaScript type
        assert response.headers["Content-Type"] == "text/javascript; charset=utf-8", response.headers

    browser.execute_script("window.__notified = null; navigator.serviceWorker.addEventListener('message',"
                           " (event) => { window.__notified = event.data; });")
    devtools = DevTools(browser)
    try:
        devtools.call("ServiceWorker.enable", session=True)
        registration = devtools.wait_event(
            "ServiceWorker.workerRegistrationUpdated",
            lambda params: any(r["scopeURL"] == f"{origin}/" for r in params["registrations"]))
        registration_id = next(r["registrationId"] for r in registration["registrations"]
                               if r["scopeURL"] == f"{origin}/")
        link = f"{origin}/?room=54321#k=AAECAwQFBgcICQoLDA0ODw"
        payload = {"t": "ring", "door": "Garden gate", "code": "54321", "link": link,
                   "expiresAt": int(time.time() * 1000) + 120000}
        devtools.call("ServiceWorker.deliverPushMessage", session=True, origin=origin,
                      registrationId=registration_id, data=json.dumps(payload))
        # Reading the notifications while the worker is still showing one loses it in headless Chromium: wait for
        # the worker's word to open pages first.
        poll(lambda: browser.execute_script("return window.__notified"), 10, interval=0.1,
             message="the service worker never said it showed a notification")
        shown = browser.execute_async_script(NOTIFICATIONS_JS)
    finally:
        devtools.close()
    assert browser.execute_script("return window.__notified") == {"t": "notified", "title": "Garden gate is ringing"}
    assert len(shown) == 1, shown
    assert shown[0]["title"] == "Garden gate is ringing", shown
    assert shown[0]["body"] == "Room 54321 — tap to answer.", shown
    assert shown[0]["data"]["link"] == link, shown


def test_a_plain_http_page_explains_that_notifications_need_https(device, browser):
    browser.get(f"http://10.200.0.1:{device.port}/")
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    reason = browser.execute_async_script("""
        const done = arguments[0];
        import('/js/web-push.js').then((push) => done(push.pushUnavailableReason()), (e) => done(String(e)));""")
    assert reason == "Open this page to be rung: notifications need HTTPS."



# --- with the door: pairing, rings, unpairing ----------------------------------------------------------------

RING_TIMEOUT = 15.0  # the room registers, the door opens a ring link to the page, hello, ring


def door_with_state(start_device, tmp_path):
    """The device with a state directory (pairings are kept there)."""
    state = tmp_path / "state"
    state.mkdir()
    config = tmp_path / "intercom.yaml"
    config.write_text(f"paths:\n  state: {state}\n")
    return start_device("--config", str(config))


def pairing_link_on_screen(device):
    """`ctl pair` opens the pairing window; the link is read off the screen's QR, as a phone does."""
    answer = device.control({"cmd": "pair"})
    assert answer.get("ok") is True, answer
    snapshot = poll(lambda: device.state()["snapshot"], 5, message="no snapshot")
    return poll(lambda: (text := decode_qr(snapshot)) and "?pair=" in text and text, 5,
                message="the screen shows no pairing QR")


def pair_in_page(driver, link, name):
    driver.get(link)
    wait_page_state(driver, "ready", PAGE_TIMEOUT)
    wait_registered(driver)
    field = driver.find_element(By.ID, "pair-name")
    field.clear()
    field.send_keys(name)
    click(driver, "pair")
    poll(lambda: hooks(driver).get("pairing") in ("paired", "refused"), PAIR_TIMEOUT,
         message=lambda: f"the pairing never finished: {hooks(driver)}")


def ring_door(device):
    assert device.control({"cmd": "press", "button": "doorbell"}) == {"ok": True}
    return poll(lambda: device.state()["room"], 5, message="no room opened")["code"]


def wait_ring_state(driver, wanted, timeout=RING_TIMEOUT):
    return poll(lambda: (ring := hooks(driver).get("ring")) and ring.get("state") == wanted and ring, timeout,
                message=lambda: f"the page's ring never became {wanted!r}: {hooks(driver)}")


def wait_phase(device, phase, timeout=10):
    poll(lambda: device.state()["phase"] == phase, timeout,
         message=lambda: f"the device never reached {phase!r}: {device.state()['phase']}")


def test_a_page_pairs_rings_answers_and_unpairs(start_device, tmp_path, browser):
    device = door_with_state(start_device, tmp_path)
    link = pairing_link_on_screen(device)
    home = device.state()["homePeerId"]
    assert link.startswith(f"http://localhost:{device.port}/?pair={home}#p="), link
    phone(browser)
    pair_in_page(browser, link, "Hall tablet")
    assert hooks(browser)["pairing"] == "paired", hooks(browser)
    peer_id = hooks(browser)["peerId"]

    # Paired: the panel says so, the credential is stored, the token is gone, the door lists the pairing.
    assert browser.current_url == f"http://localhost:{device.port}/", browser.current_url
    assert browser.find_element(By.ID, "paired-text").text == \
        "Paired with Front door — this browser rings when someone is at the door"
    stored = json.loads(browser.execute_script("return localStorage.getItem('intercom.pairing')"))
    assert stored["home"] == home and stored["peerId"] == peer_id and stored["door"] == "Front door", stored
    assert len(base64.urlsafe_b64decode(stored["credential"] + "==")) == 32
    assert browser.execute_script("return Object.keys(sessionStorage).filter((k) => k.startsWith('intercom.pair'))") == []
    listed = device.control({"cmd": "pairings"})["pairings"]
    assert [(p["id"], p["name"]) for p in listed] == [(stored["id"], "Hall tablet")], listed
    # Headless Chromium has no push service: the page says how it is rung instead.
    poll(lambda: browser.find_element(By.ID, "push-note").text.startswith("Open this page to be rung"), 25,
         message=lambda: f"no push note: {browser.find_element(By.ID, 'push-note').text!r}")
    wait_phase(device, "idle")
    screenshot(browser, "paired")

    # A ring: the dialog names the door and the room; Ignore closes it.
    code = ring_door(device)
    ring = wait_ring_state(browser, "ringing")
    assert ring["door"] == "Front door" and ring["code"] == code, ring
    assert browser.execute_script("return document.getElementById('ringing').open") is True
    assert browser.find_element(By.ID, "ringing-title").text == "Front door is ringing"
    assert hooks(browser)["ringSound"] == "playing", hooks(browser)
    screenshot(browser, "door-ringing")
    click(browser, "ring-ignore")
    wait_ring_state(browser, "ignored", 2)
    assert browser.execute_script("return document.getElementById('ringing').open") is False

    # The room closes unanswered: the next ring is a new one, and a page that waits sees it missed.
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    wait_phase(device, "idle")
    ring_door(device)
    wait_ring_state(browser, "ringing")
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    wait_ring_state(browser, "missed")
    assert browser.find_element(By.ID, "status").text == "Missed ring"
    wait_phase(device, "idle")

    # Answer joins the room through the ring's link (proved: let in at once) with two-way media.
    ring_door(device)
    wait_ring_state(browser, "ringing")
    click(browser, "ring-answer")
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    assert hooks(browser)["proved"] is True, hooks(browser)
    check_browser_video_rises(browser)
    check_device_media_rises(device)
    click(browser, "hangup")
    wait_phase(device, "idle", 15)

    # Unpair: forgotten here, the page leaves its stable ID, and the next ring reaches nothing.
    wait_page_state(browser, "ended", 5)
    click(browser, "unpair")
    poll(lambda: hooks(browser).get("paired") is False, 2, message="the page still says paired")
    assert browser.execute_script("return localStorage.getItem('intercom.pairing')") is None
    assert not browser.find_element(By.ID, "paired-panel").is_displayed()
    poll(lambda: hooks(browser).get("signaling") == "open" and hooks(browser)["peerId"] != peer_id, PAGE_TIMEOUT,
         message=lambda: f"the page kept its stable ID: {hooks(browser)}")


def test_a_used_pairing_code_is_refused_in_words(start_device, tmp_path, browser, more_browsers):
    device = door_with_state(start_device, tmp_path)
    link = pairing_link_on_screen(device)
    pair_in_page(browser, link, "First")
    assert hooks(browser)["pairing"] == "paired", hooks(browser)
    second = phone(more_browsers())
    pair_in_page(second, link, "Second")
    assert hooks(second)["pairRefusal"] == "used", hooks(second)
    assert second.find_element(By.ID, "pair-result").text == \
        "This pairing code was already used. Long-press the doorbell for a new one, then scan it again."
    assert second.execute_script("return localStorage.getItem('intercom.pairing')") is None
    assert not second.find_element(By.ID, "pair").is_enabled()
    screenshot(second, "pair-refused")
    assert [p["name"] for p in device.control({"cmd": "pairings"})["pairings"]] == ["First"]


def test_a_wrong_or_expired_pairing_code_is_refused_in_words(start_device, tmp_path, browser, more_browsers):
    device = door_with_state(start_device, tmp_path)
    link = pairing_link_on_screen(device)
    # A token that is not the door's (a mistyped or stale link): the door cannot verify this browser.
    wrong = link.split("#p=")[0] + "#p=" + b64url(secrets.token_bytes(16))
    pair_in_page(browser, wrong, "Wrong")
    assert hooks(browser)["pairRefusal"] == "proof", hooks(browser)
    assert browser.find_element(By.ID, "pair-result").text == \
        "The door could not verify this browser. Scan the pairing code on the door again."
    assert browser.execute_script("return localStorage.getItem('intercom.pairing')") is None

    # A short doorbell press ends the pairing window (and rings): the right token now comes too late.
    late = phone(more_browsers())
    late.get(link)
    wait_page_state(late, "ready", PAGE_TIMEOUT)
    assert device.control({"cmd": "press", "button": "doorbell"}) == {"ok": True}
    wait_phase(device, "room")
    click(late, "pair")
    poll(lambda: hooks(late).get("pairing") == "refused", PAIR_TIMEOUT,
         message=lambda: f"the pairing was not refused: {hooks(late)}")
    assert hooks(late)["pairRefusal"] == "expired", hooks(late)
    assert late.find_element(By.ID, "pair-result").text == \
        "This pairing code has expired. Long-press the doorbell for a new one, then scan it again."
    assert device.control({"cmd": "pairings"})["pairings"] == []


def test_a_plain_http_page_pairs_and_rings_with_its_own_sha256_and_says_push_needs_https(start_device, tmp_path,
                                                                                         browser):
    """A phone on the LAN at http://<door's address> has no WebCrypto and no service worker: the MACs come
    from the page's sha256.js, the pairing and the ring work all the same, and the page says how it is rung."""
    device = door_with_state(start_device, tmp_path)
    link = pairing_link_on_screen(device).replace("://localhost:", "://10.200.0.1:")
    pair_in_page(browser, link, "Hall phone")
    assert hooks(browser)["pairing"] == "paired", hooks(browser)
    assert browser.execute_script("return isSecureContext || !!(globalThis.crypto && crypto.subtle)") is False
    assert browser.find_element(By.ID, "push-note").text == "Open this page to be rung: notifications need HTTPS."
    assert hooks(browser)["push"] == "unavailable", hooks(browser)
    wait_phase(device, "idle")
    code = ring_door(device)
    assert wait_ring_state(browser, "ringing")["code"] == code
    assert device.control({"cmd": "pairings"})["pairings"][0]["onlineAtLastRing"] is True


def test_the_door_can_call_its_paired_browser_on_the_stable_id(start_device, tmp_path, browser):
    """`intercom ctl call <stable ID>` (the door's own call from its home ID) reaches a paired page, which
    otherwise ignores calls to that ID: the incoming-call dialog, and Answer gives a call."""
    device = door_with_state(start_device, tmp_path)
    pair_in_page(browser, pairing_link_on_screen(device), "Flat 3 tablet")
    assert hooks(browser)["pairing"] == "paired", hooks(browser)
    stable = hooks(browser)["peerId"]
    wait_phase(device, "idle")
    assert device.control({"cmd": "call", "peer": stable, "name": "Flat 3"}).get("ok") is True
    wait_page_state(browser, "incoming", CALL_TIMEOUT)
    assert browser.find_element(By.ID, "incoming-from").text == "From Front door"
    click(browser, "answer")
    wait_page_state(browser, "in-call", CALL_TIMEOUT)
    assert device.state()["call"]["peer"] == stable
    check_browser_video_rises(browser)
    assert hooks(browser).get("ignoredOffers") is None, hooks(browser)
