"""Who may join (docs/security.md): the join link's secret, proof before media, knocks, lifetimes, limits.

The device runs with its own defaults (@pytest.mark.device_args()): a caller with the link's secret is
answered at once, a caller with only the code is a knock.
"""

import asyncio
import base64
import hashlib
import hmac
import http
import json
import re
import threading
import urllib.error
import urllib.request

import pytest
from conftest import _free_port
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from polling import poll
from test_call import (CALL_TIMEOUT, PAGE_TIMEOUT, check_browser_video_rises, check_device_media_rises, click,
                       join, page_state, page_test_hooks, ring, wait_page_state)

EXPIRE_TIMEOUT = 15.0  # the signaling server answers EXPIRE ~5 s after an OFFER to an unregistered ID


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def secret_of(link):
    return re.search(r"#k=([A-Za-z0-9_-]+)", link).group(1)


def mac_key(secret):
    prk = hmac.new(b"intercom/1", secret, hashlib.sha256).digest()
    return hmac.new(prk, b"mac\x01", hashlib.sha256).digest()


def room_peer_id(secret, prefix="intercom-"):
    tag = hmac.new(secret, b"peer-id", hashlib.sha256).digest()
    return prefix + base64.b32encode(tag).decode().lower().rstrip("=")[:26]


# --- the page's cryptography, in both of its implementations -------------------------------------------------

PAGE_CRYPTO_JS = """
const [vectors, done] = arguments;
(async () => {
  const { RoomProof } = await import('/js/room-proof.js');
  const { hmacSha256 } = await import('/js/sha256.js');
  const proof = await RoomProof.fromSecret(new Uint8Array(vectors.secret));
  const offer = await proof.offerProof({room: vectors.room, caller: 'page-1', connectionId: 'mc_1',
                                        offerSdp: vectors.offerSdp});
  const answerHolds = await proof.answerHolds({room: vectors.room, caller: 'page-1', connectionId: 'mc_1',
      nonce: vectors.nonce, offerSdp: vectors.offerSdp, answerSdp: vectors.answerSdp,
      proof: {v: 1, mac: vectors.answerMac}});
  const forgedHolds = await proof.answerHolds({room: vectors.room, caller: 'page-1', connectionId: 'mc_1',
      nonce: vectors.nonce, offerSdp: vectors.offerSdp, answerSdp: vectors.answerSdp + ' ',
      proof: {v: 1, mac: vectors.answerMac}});
  const macs = vectors.hmacCases.map(([key, message]) =>
      Array.from(hmacSha256(new Uint8Array(key), new Uint8Array(message))));
  done({secure: isSecureContext, subtle: !!(globalThis.crypto && crypto.subtle), suffix: proof.peerIdSuffix,
        offer, answerHolds, forgedHolds, macs});
})().catch((e) => done({error: String(e && e.stack || e)}));
"""


@pytest.mark.parametrize("origin", ["localhost", "10.200.0.1"])
def test_the_page_computes_what_the_device_checks(device, browser, origin):
    """The same vectors as Tests/AdmissionTests (computed with Python's hmac): WebCrypto on a secure page
    (localhost), the page's own SHA-256 on plain http to an address (what a phone on the LAN gets)."""
    secret = bytes(range(16))
    offer_sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 AA:BB\r\n"
    room = room_peer_id(secret)
    assert room == "intercom-idil3m3jattiycythz3ybqcm3q"
    hmac_cases = [(list(bytes(n % 7 for n in range(k))), list(bytes((n * 31) % 256 for n in range(m))))
                  for k, m in [(0, 0), (16, 3), (64, 55), (65, 56), (100, 64), (32, 1000)]]
    vectors = {"secret": list(secret), "room": room, "offerSdp": offer_sdp, "nonce": "AAECAwQFBgcICQoL",
               "answerSdp": "v=0\r\nanswer\r\n", "answerMac": "YkMEXRvU5CD3biheWeg23IltNnlgZcQNb39bqfr7wI8",
               "hmacCases": hmac_cases}
    browser.get(f"http://{origin}:{device.port}/")
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    result = browser.execute_async_script(PAGE_CRYPTO_JS, vectors)
    assert "error" not in result, result
    assert result["subtle"] is (origin == "localhost"), result
    assert result["suffix"] == room.removeprefix("intercom-")
    nonce = result["offer"]["n"]
    text = "\n".join(["intercom/1 offer", room, "page-1", "mc_1", nonce, hashlib.sha256(offer_sdp.encode()).hexdigest()])
    assert result["offer"] == {"v": 1, "n": nonce, "mac": b64url(hmac.new(mac_key(secret), text.encode(),
                                                                           hashlib.sha256).digest())}
    assert len(base64.urlsafe_b64decode(nonce + "==")) == 12
    assert result["answerHolds"] is True and result["forgedHolds"] is False, result
    assert result["macs"] == [list(hmac.new(bytes(k), bytes(m), hashlib.sha256).digest()) for k, m in hmac_cases]


# --- joining --------------------------------------------------------------------------------------------------


@pytest.mark.device_args()
def test_the_link_joins_at_once_and_the_code_alone_only_knocks(device, browser):
    events = device.events()
    link = ring(device)
    state = device.state()
    secret = base64.urlsafe_b64decode(secret_of(link) + "==")
    assert len(secret) == 16
    assert state["room"]["peerId"] == room_peer_id(secret), state["room"]
    assert state["room"]["knockPeerId"] == "intercom-" + state["room"]["code"], state["room"]

    join(browser, link)
    hooks = page_test_hooks(browser)
    assert hooks["proved"] is True and hooks["remoteId"] == room_peer_id(secret), hooks
    # The secret left the address bar (it waits in sessionStorage for a reload).
    assert "#" not in browser.current_url, browser.current_url
    check_browser_video_rises(browser)
    check_device_media_rises(device)
    state = device.state()
    assert state["admission"]["callSessionsCreated"] == 1, state["admission"]
    assert state["admission"]["offers"] == {"proved": 1}, state["admission"]

    phases = []
    for event in events:
        if event["event"] == "phase":
            phases.append(event["phase"])
        if event["event"] == "call-connected":
            break
    assert phases == ["room", "in-call"], f"a proved caller went through {phases}"


@pytest.mark.device_args()
def test_a_used_or_old_link_says_expired(device, browser):
    link = ring(device)
    join(browser, link)
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    wait_page_state(browser, "ended", 5)
    poll(lambda: device.state()["room"] is None, 5, message="the room stayed open after the call")

    # The same link again, opened anew (as from the QR photo): its room ID is gone.
    browser.get("about:blank")
    browser.get(link)
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    click(browser, "join")
    wait_page_state(browser, "error", EXPIRE_TIMEOUT)
    hooks = page_test_hooks(browser)
    status = browser.execute_script("return document.getElementById('status').textContent;")
    assert hooks["endReason"] == "expired" and "expired" in status, (hooks, status)
    assert device.state()["admission"]["callSessionsCreated"] == 1


@pytest.mark.device_args()
def test_the_secret_is_in_no_log(device, browser):
    """A whole call, ring to hang-up: neither the device's output nor the page's console nor the control
    socket's state and events carry the secret, and the log shows the link redacted."""
    events = device.events()
    link = ring(device)
    secret = secret_of(link)
    join(browser, link)
    check_device_media_rises(device)
    state_text = json.dumps(device.state())
    click(browser, "hangup")
    wait_page_state(browser, "ended", 5)
    poll(lambda: device.state()["phase"] in ("ending", "idle"), 5, message="the call did not end")

    seen = []
    for event in events:
        seen.append(json.dumps(event, ensure_ascii=False))
        if event["event"] == "room-closed":
            break
    console = "\n".join(entry["message"] for entry in browser.get_log("browser"))
    log = device.log_text()
    assert "#k=…" in log, log[-2000:]
    for name, text in [("device log", log), ("page console", console), ("state", state_text),
                       ("events", "\n".join(seen))]:
        assert secret not in text, f"the secret is in the {name}"


# --- a flood of guesses, forgeries and replays while a real caller joins ---------------------------------------

FAKE_SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 " + \
    ":".join(["AB"] * 32) + "\r\n"


class Attacker:
    """A PeerJS peer on the device's built-in server that sends what it is told and records every message
    it gets back (an ANSWER or CANDIDATE would be a door answering a stranger)."""

    def __init__(self, port, name):
        import websocket  # websocket-client, already pinned in suites/requirements.txt (selenium needs it)
        self.id = name
        self.socket = websocket.create_connection(
            f"ws://127.0.0.1:{port}/peerjs?key=peerjs&id={name}&token=t{name}&version=1.5.5", timeout=5)
        opened = json.loads(self.socket.recv())
        assert opened == {"type": "OPEN"}, opened
        self.received = []
        self.sent = 0
        self._stop = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        self.socket.settimeout(0.2)
        while not self._stop:
            try:
                text = self.socket.recv()
            except Exception as error:  # a timeout, or the socket closed at the end
                if type(error).__name__ == "WebSocketTimeoutException":
                    continue
                return
            if text:
                self.received.append(json.loads(text))

    def offer(self, dst, metadata=None, sdp=FAKE_SDP, connection_id=None):
        self.sent += 1
        payload = {"sdp": {"type": "offer", "sdp": sdp}, "type": "media",
                   "connectionId": connection_id or f"mc_{self.id}_{self.sent}"}
        if metadata is not None:
            payload["metadata"] = metadata
        self.socket.send(json.dumps({"type": "OFFER", "dst": dst, "payload": payload}))

    def close(self):
        self._stop = True
        self._reader.join(2)
        self.socket.close()


def forged_proof(rng):
    return {"proof": {"v": 1, "n": b64url(rng.randbytes(12)), "mac": b64url(rng.randbytes(32))}}


def proof_for(secret, room, caller, connection_id, sdp, nonce):
    text = "\n".join(["intercom/1 offer", room, caller, connection_id, nonce, hashlib.sha256(sdp.encode()).hexdigest()])
    return {"proof": {"v": 1, "n": nonce, "mac": b64url(hmac.new(mac_key(secret), text.encode(), hashlib.sha256).digest())}}


@pytest.mark.device_args()
def test_guesses_forgeries_and_replays_get_nothing_while_the_real_caller_gets_in(device, browser):
    import random
    import time

    rng = random.Random(9)
    # An earlier room: its link leaked (a photo of the QR). The flood replays proofs made with it.
    old_link = ring(device)
    old_secret = base64.urlsafe_b64decode(secret_of(old_link) + "==")
    assert device.control({"cmd": "hangup"}) == {"ok": True}
    poll(lambda: device.state()["phase"] == "idle", 10, message="the first room did not close")

    link = ring(device)
    room = device.state()["room"]
    attackers = [Attacker(device.port, f"attacker{i}") for i in range(12)]
    done = threading.Event()
    counts = {"sent": 0}

    def flood():
        i = 0
        while not done.is_set() and counts["sent"] < 6000:
            a = attackers[i % len(attackers)]
            kind = i % 6
            if kind == 0:      # guessed codes (the real one among them) → knocks, limited per minute
                a.offer(f"intercom-{rng.randrange(100000):05d}" if i % 60 else room["knockPeerId"])
            elif kind == 1:    # guessed room IDs: nothing registered there
                a.offer("intercom-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(26)))
            elif kind == 2:    # forged MACs to the real room ID (as a signaling operator could)
                a.offer(room["peerId"], forged_proof(rng))
            elif kind == 3:    # a proof under the earlier room's key, sent to that room's ID and this one's
                cid = f"mc_{a.id}_r{i}"
                a.offer(room_peer_id(old_secret), proof_for(old_secret, room_peer_id(old_secret), a.id, cid, FAKE_SDP,
                                                            b64url(rng.randbytes(12))), connection_id=cid)
                a.offer(room["peerId"], proof_for(old_secret, room["peerId"], a.id, cid, FAKE_SDP,
                                                  b64url(rng.randbytes(12))), connection_id=cid)
                counts["sent"] += 1
            elif kind == 4:    # a valid-looking proof over a different SDP (a fingerprint swap)
                a.offer(room["peerId"], forged_proof(rng), sdp=FAKE_SDP.replace("AB", "CD"))
            else:              # oversized metadata
                a.offer(room["peerId"], {"pad": "x" * 4000})
            counts["sent"] += 1
            i += 1
            if i % 200 == 0:
                # ~500 offers/s from the 12 peers: under the built-in server's per-socket budget (50 frames/s,
                # burst 200), which closes a faster sender (suites/hostile); keep it a steady flood.
                time.sleep(0.4)

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    try:
        poll(lambda: sum(device.state()["admission"]["offers"].values()) > 200, 20,
             message=lambda: f"the flood did not reach the device: {device.state()['admission']}")
        started = time.monotonic()
        join(browser, link)  # the real caller, with the link, during the flood
        joined_after = time.monotonic() - started
        check_browser_video_rises(browser)
        check_device_media_rises(device)
        # The caller can be in well within a second: keep the flood on until it has been a real one, so the
        # counts below measure the limits and not how fast the join was.
        poll(lambda: counts["sent"] >= 3000, 30, message=lambda: f"the flood stalled at {counts['sent']} offers")
    finally:
        done.set()
        thread.join(10)
    time.sleep(1.0)  # late replies, if any, would arrive now
    for a in attackers:
        a.close()

    state = device.state()
    offers = state["admission"]["offers"]
    replies = [m for a in attackers for m in a.received if m.get("type") in ("ANSWER", "CANDIDATE")]
    print(f"flood: {counts['sent']} offers sent by {len(attackers)} peers; device counted {offers}; "
          f"the real caller was in the call {joined_after:.1f} s after pressing Join")
    assert counts["sent"] >= 2000, counts
    assert replies == [], f"strangers got answers: {replies[:3]}"
    assert state["admission"]["callSessionsCreated"] == 1, state["admission"]
    assert offers.get("proved") == 1, offers
    # Each attacker's first offers reach the MAC check; after 5 in 10 s it is cut off before it.
    assert offers.get("bad proof", 0) >= len(attackers) and offers.get("rate-limited", 0) > 1000, offers
    assert offers.get("knock", 0) <= 10, offers  # knocks per minute
    assert state["phase"] == "in-call" and state["call"]["connected"] is True, state


class FingerprintSwappingRelay:
    """A man in the middle on the page's way to the door: it serves the door's pages unchanged and relays the
    PeerJS WebSocket both ways, but puts its own DTLS fingerprint into every ANSWER the door sends — what a relay
    that wants to sit inside the media path would have to do. Runs on its own port in the test's namespace."""

    FAKE_FINGERPRINT = ":".join(f"{(7 * i + 3) % 256:02X}" for i in range(32))

    def __init__(self, device_port):
        self.device_port = device_port
        self.port = _free_port()
        self.swapped = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the relay did not start"

    def _run(self):
        async def main():
            self.stop_event = asyncio.Event()
            async with serve(self._relay, "127.0.0.1", self.port, process_request=self._http):
                self.ready.set()
                await self.stop_event.wait()

        self.loop.run_until_complete(main())

    def stop(self):
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(10)

    def _http(self, connection, request):
        """Plain HTTP (the page, its scripts) is fetched from the door as it is; upgrades go on to `_relay`."""
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        try:
            with urllib.request.urlopen(f"http://localhost:{self.device_port}{request.path}", timeout=5) as reply:
                status, body, kind = reply.status, reply.read(), reply.headers.get("Content-Type", "text/plain")
        except urllib.error.HTTPError as error:
            status, body, kind = error.code, error.read(), "text/plain"
        headers = Headers([("Content-Type", kind), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return Response(status, http.HTTPStatus(status).phrase, headers, body)

    async def _relay(self, page):
        async with connect(f"ws://localhost:{self.device_port}{page.request.path}") as door:
            async def to_page():
                async for message in door:
                    await page.send(self._swap(message))

            async def to_door():
                async for message in page:
                    await door.send(message)

            tasks = [asyncio.create_task(to_page()), asyncio.create_task(to_door())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()

    def _swap(self, message):
        try:
            frame = json.loads(message)
        except ValueError:
            return message
        sdp = (frame.get("payload") or {}).get("sdp", {})
        text = sdp.get("sdp") if isinstance(sdp, dict) else None
        if frame.get("type") != "ANSWER" or not text:
            return message
        swapped = re.sub(r"a=fingerprint:sha-256 [0-9A-Fa-f:]+", "a=fingerprint:sha-256 " + self.FAKE_FINGERPRINT, text)
        if swapped != text:
            self.swapped += 1
        sdp["sdp"] = swapped
        return json.dumps(frame)


def test_a_relay_that_swaps_the_doors_fingerprint_is_caught_by_the_page(device, browser):
    """The page joins through the relay with the real link: the answer's MAC covers the door's SDP, so the
    swapped fingerprint is "not the real door" and the page stops before any media."""
    relay = FingerprintSwappingRelay(device.port)
    try:
        link = ring(device).replace(f"http://localhost:{device.port}/", f"http://localhost:{relay.port}/")
        browser.get(link)
        wait_page_state(browser, "ready", PAGE_TIMEOUT)
        click(browser, "join")
        poll(lambda: page_state(browser) == "error", CALL_TIMEOUT,
             message=lambda: f"the page took the relayed answer: state={page_state(browser)!r} "
                             f"{page_test_hooks(browser)}")
        hooks = page_test_hooks(browser)
        assert relay.swapped >= 1, "the relay never saw the door's ANSWER (the test proves nothing)"
        assert "not the real door" in hooks["lastError"], hooks
        # The page stopped before ICE and said so (LEAVE, reason "hangup", through the relay), so the door ends
        # that call as the caller's hang-up and is idle again: the relay got no media and holds no call.
        poll(lambda: device.state()["phase"] == "idle", 30,
             message=lambda: f"the door stayed in {device.state()['phase']} after the page stopped the call")
        state = device.state()
        assert state["admission"]["callSessionsCreated"] == 1
        assert state["lastCall"]["endedBy"] == "remote", state["lastCall"]
    finally:
        relay.stop()
