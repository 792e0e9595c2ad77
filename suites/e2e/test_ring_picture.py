"""The ring picture: at the press the door takes a still from its camera and the notifications carry it — ntfy
as an attachment (the JPEG is the body of a PUT to the topic, the message in headers), a webhook as inline
base64. The picture must be a JPEG of the camera's size that jpegdec decodes and that is not blank. With
`notify.picture: false` the ring goes without one."""

import base64
import json

from selenium.webdriver.common.by import By

from pictures import gray_pixels, jpeg_size, luma_variance
from polling import poll
from receivers import NtfyServer, Receiver
from test_notify import NTFY_TOPIC, press_doorbell
from test_web_client import screenshot

CAMERA = (480, 360)  # not the default 640x480: the picture must follow the configured camera size


def write_config(path, ntfy, webhook, picture=None, warm_join=True):
    # A loaded test machine can take most of a second to start the camera: the ring may wait longer here.
    lines = ["media:", f"  resolution: {CAMERA[0]}x{CAMERA[1]}", f"  warm_join: {json.dumps(warm_join)}",
             "notify:", "  picture_wait_ms: 4000"]
    if picture is not None:
        lines.append(f"  picture: {json.dumps(picture)}")
    lines += ["  targets:",
              "    - type: ntfy", f"      url: {ntfy.url}/{NTFY_TOPIC}",
              "    - type: webhook", f"      url: {webhook.url}/ring"]
    path.write_text("\n".join(lines) + "\n")
    return path


def check_picture(data, who):
    assert jpeg_size(data) == CAMERA, f"{who}: a {jpeg_size(data)} picture from a {CAMERA} camera"
    variance = luma_variance(gray_pixels(data, *CAMERA))
    print(f"{who}: {len(data)} bytes of JPEG, {CAMERA[0]}x{CAMERA[1]}, luma variance {variance:.0f}")
    assert variance > 100, f"{who}: the picture is blank (luma variance {variance:.1f})"


def test_ntfy_and_a_webhook_get_the_ring_with_a_picture(start_device, tmp_path):
    ntfy, webhook = NtfyServer(), Receiver()
    try:
        device = start_device("--config", str(write_config(tmp_path / "intercom.yaml", ntfy, webhook)),
                              "--door-name", "Garden gate")
        pressed_at, room = press_doorbell(device)

        for name, receiver in (("ntfy", ntfy), ("webhook", webhook)):
            first = poll(lambda: receiver.accepted, 5, message=f"the {name} receiver got nothing")[0]
            delay = first.at - pressed_at
            print(f"{name}: ring with picture received {delay * 1000:.0f} ms after the press")

        [put] = ntfy.accepted
        assert put.method == "PUT" and put.path == f"/{NTFY_TOPIC}"
        [message] = ntfy.messages[NTFY_TOPIC]
        assert message["click"] == room["link"] and room["code"] in message["message"]
        assert "Garden gate" in message["title"]
        assert {"action": "view", "label": "Answer", "url": room["link"], "clear": True} in message["actions"]
        attachment = message["attachment"]
        assert attachment["type"] == "image/jpeg" and attachment["name"].endswith(".jpg")
        check_picture(attachment["data"], "ntfy")

        body = webhook.accepted[0].json()
        assert body["link"] == room["link"] and body["picture"]["type"] == "image/jpeg"
        inline = base64.b64decode(body["picture"]["base64"])
        assert inline == attachment["data"], "the webhook and ntfy got different pictures of the same ring"
        check_picture(inline, "webhook")
    finally:
        ntfy.close()
        webhook.close()


def test_without_the_warm_pipeline_a_camera_of_its_own_takes_the_picture(start_device, tmp_path):
    # media.warm_join: false: no pipeline runs before a call, so the ring starts the camera for the picture alone.
    ntfy, webhook = NtfyServer(), Receiver()
    try:
        config = write_config(tmp_path / "intercom.yaml", ntfy, webhook, warm_join=False)
        device = start_device("--config", str(config), "--door-name", "Garden gate", "--verbose")
        press_doorbell(device)
        poll(lambda: ntfy.accepted and webhook.accepted, 8, message="the ring did not arrive")
        [message] = ntfy.messages[NTFY_TOPIC]
        assert "attachment" in message, f"no picture without the warm pipeline: {message}"
        check_picture(message["attachment"]["data"], "ntfy (own camera)")
        assert base64.b64decode(webhook.accepted[0].json()["picture"]["base64"]) == message["attachment"]["data"]
        # The camera ran for the picture alone and was stopped when it was taken.
        poll(lambda: "still camera stopped" in device.log_text(), 5, message="the still's camera was not stopped")
        assert "warm pipeline started" not in device.log_text()
    finally:
        ntfy.close()
        webhook.close()


def test_picture_false_sends_the_ring_without_one(start_device, tmp_path):
    ntfy, webhook = NtfyServer(), Receiver()
    try:
        config = write_config(tmp_path / "intercom.yaml", ntfy, webhook, picture=False)
        device = start_device("--config", str(config))
        _, room = press_doorbell(device)
        poll(lambda: ntfy.accepted and webhook.accepted, 5, message="the ring did not arrive")
        [message] = ntfy.messages[NTFY_TOPIC]
        assert message["click"] == room["link"] and "attachment" not in message
        assert "picture" not in webhook.accepted[0].json()
    finally:
        ntfy.close()
        webhook.close()


# --- the paired page's ringing dialog ------------------------------------------------------------------

MEASURE_RING_PICTURE = """
const img = document.getElementById('ringing-picture');
if (img.hidden || !img.complete || img.naturalWidth === 0) return null;
const canvas = document.createElement('canvas');
canvas.width = img.naturalWidth;
canvas.height = img.naturalHeight;
const context = canvas.getContext('2d');
context.drawImage(img, 0, 0);
const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
let sum = 0, squares = 0;
for (let i = 0; i < pixels.length; i += 4) {
  const luma = 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
  sum += luma;
  squares += luma * luma;
}
const count = pixels.length / 4;
return {width: img.naturalWidth, height: img.naturalHeight, variance: squares / count - (sum / count) ** 2,
        shownWidth: img.getBoundingClientRect().width, dialogOpen: document.getElementById('ringing').open};
"""


DESCRIBE_RING_PICTURE = """
const img = document.getElementById('ringing-picture');
return {hidden: img.hidden, complete: img.complete, naturalWidth: img.naturalWidth, src: img.src.slice(0, 40)};
"""


def test_the_paired_pages_ringing_dialog_shows_the_picture(start_device, tmp_path, browser):
    from test_pairing_page import (door_with_state, hooks, pair_in_page, pairing_link_on_screen, ring_door,
                                   wait_phase, wait_ring_state)
    from test_call import click
    from test_web_client import phone, screenshot

    # No notification target: the paired browser alone is reason enough to take the picture.
    device = door_with_state(start_device, tmp_path)
    phone(browser)
    pair_in_page(browser, pairing_link_on_screen(device), "Hall tablet")
    assert hooks(browser)["pairing"] == "paired", hooks(browser)
    wait_phase(device, "idle")

    # Ignore hides the picture; the next ring shows one again (its own: the dialog was emptied in between).
    for ring_number in (1, 2):
        code = ring_door(device)
        assert wait_ring_state(browser, "ringing")["code"] == code
        picture = poll(lambda: browser.execute_script(MEASURE_RING_PICTURE), 10,
                       message=lambda: f"the ringing dialog shows no decoded picture: {hooks(browser).get('ring')}, "
                       f"img {browser.execute_script(DESCRIBE_RING_PICTURE)}")
        print(f"ring {ring_number}: dialog picture {picture}")
        assert picture["dialogOpen"] is True and picture["shownWidth"] > 0, picture
        assert (picture["width"], picture["height"]) == (640, 480), picture  # the camera's default size
        assert picture["variance"] > 100, f"the dialog's picture is blank: {picture}"
        if ring_number == 1:
            screenshot(browser, "door-ringing-picture")
        click(browser, "ring-ignore")
        wait_ring_state(browser, "ignored", 2)
        assert browser.execute_script("return document.getElementById('ringing-picture').hidden") is True
        assert device.control({"cmd": "hangup"}) == {"ok": True}
        wait_phase(device, "idle")


# --- a page opened from a Web Push notification -----------------------------------------------------------

def pushed_door(start_device, tmp_path, browser):
    """A door with a state directory, a paired page, and a Web Push subscription whose endpoint decrypts what
    the door pushes. Returns (device, push endpoint)."""
    from receivers import PushEndpoint, make_certificate_authority
    from test_notify import push_config, subscribe
    from test_pairing_page import pair_in_page, pairing_link_on_screen, wait_phase
    from test_web_client import phone

    ca_file, tls = make_certificate_authority(tmp_path / "ca")
    endpoint = PushEndpoint(tls=tls)
    config, _ = push_config(tmp_path, ca_file)
    device = start_device("--config", str(config), "--door-name", "Garden gate")
    phone(browser)
    pair_in_page(browser, pairing_link_on_screen(device), "Hall tablet")
    wait_phase(device, "idle")
    subscribe(device, endpoint, "Hall tablet")
    return device, endpoint


def pushed_ring(device, endpoint):
    """Rings the door; returns the Web Push message the door sent (decrypted), with its picture's id."""
    from test_notify import press_doorbell

    _, room = press_doorbell(device)
    [message] = poll(lambda: endpoint.messages or endpoint.problems, 5, message="the push endpoint got nothing")
    assert endpoint.problems == [], endpoint.problems
    assert message["link"] == room["link"] and isinstance(message.get("picture"), str), message
    return message


def pushed_ring_hooks(driver):
    return (browser_hooks(driver) or {}).get("pushedRing") or {}


def browser_hooks(driver):
    return driver.execute_script("return window.intercomTest || null;")


def wait_pushed_ring(driver, wanted):
    return poll(lambda: (hooks := pushed_ring_hooks(driver)).get("state") == wanted and hooks, 30,
                message=lambda: f"the pushed ring never became {wanted!r}: {pushed_ring_hooks(driver)}")


def ring_picture_event(events, **fields):
    for event in events:
        if event.get("event") == "ring-picture" and all(event.get(k) == v for k, v in fields.items()):
            return event
    raise AssertionError("the event stream ended before a ring-picture event")


def test_a_page_opened_from_a_push_asks_the_door_for_the_rings_picture(start_device, tmp_path, browser):
    from test_call import CALL_TIMEOUT, click, wait_page_state
    from test_pairing_page import NOTIFICATIONS_JS, DevTools

    device, endpoint = pushed_door(start_device, tmp_path, browser)
    try:
        origin = browser.current_url.rstrip("/")
        browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["notifications"]})
        registered = browser.execute_async_script("""
            const done = arguments[0];
            import('/js/web-push.js').then((push) => push.registerWorker())
              .then((r) => done(r.scope), (e) => done(String(e)));""")
        assert registered == f"{origin}/", registered
        events = device.events(timeout=30)
        message = pushed_ring(device, endpoint)

        # The push as the browser's push service hands it to the worker; the notification it shows names the
        # door, and tapping it opens what its data says: the join link with the picture's id.
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
            devtools.call("ServiceWorker.deliverPushMessage", session=True, origin=origin,
                          registrationId=registration_id, data=json.dumps(message))
            poll(lambda: browser.execute_script("return window.__notified"), 10, interval=0.1,
                 message="the service worker never said it showed a notification")
            shown = browser.execute_async_script(NOTIFICATIONS_JS)
        finally:
            devtools.close()
        assert len(shown) == 1 and shown[0]["title"] == "Garden gate is ringing", shown
        opens = shown[0]["data"]["open"]
        assert shown[0]["data"]["picture"] == message["picture"], shown
        assert opens.split("#")[0] == message["link"].split("#")[0] + f"&ring={message['picture']}", opens
        assert opens.split("#")[1] == message["link"].split("#")[1], "the room secret must stay in the fragment"

        browser.get(opens)
        shown_ring = wait_pushed_ring(browser, "shown")
        assert shown_ring["id"] == message["picture"] and shown_ring["picture"] is True, shown_ring
        picture = poll(lambda: browser.execute_script(MEASURE_RING_PICTURE), 10,
                       message=lambda: f"no decoded picture: {browser.execute_script(DESCRIBE_RING_PICTURE)}")
        print(f"pushed ring: dialog picture {picture}, {shown_ring['characters']} base64 characters")
        assert picture["dialogOpen"] is True and picture["shownWidth"] > 0, picture
        assert (picture["width"], picture["height"]) == (640, 480), picture
        assert picture["variance"] > 100, f"the dialog's picture is blank: {picture}"
        assert browser.find_element(By.ID, "ringing-title").text == "Garden gate is ringing"
        sent = ring_picture_event(events, result="sent")
        assert sent["picture"] == message["picture"], sent
        screenshot(browser, "door-ringing-pushed")

        # Answer joins the room of the link.
        click(browser, "ring-answer")
        wait_page_state(browser, "in-call", CALL_TIMEOUT)
        assert pushed_ring_hooks(browser)["state"] == "answered"
    finally:
        endpoint.close()


def test_a_ring_picture_goes_only_to_a_page_that_proves_its_pairing(start_device, tmp_path, browser):
    device, endpoint = pushed_door(start_device, tmp_path, browser)
    try:
        events = device.events(timeout=30)
        message = pushed_ring(device, endpoint)
        base, fragment = message["link"].split("#")

        # Paired, but asking for a picture the door does not have: told so, no picture.
        browser.get(f"{base}&ring=AAAAAAAAAAAA#{fragment}")
        wait_pushed_ring(browser, "notFound")
        assert ring_picture_event(events)["result"] == "notFound"
        assert browser.execute_script("return document.getElementById('ringing-picture').hidden") is True

        # The page keeps its pairing id but its credential is wrong: it cannot prove the pairing.
        browser.execute_script("const s = JSON.parse(localStorage.getItem('intercom.pairing'));"
                               " s.credential = 'A'.repeat(43); localStorage.setItem('intercom.pairing', JSON.stringify(s));")
        browser.get(f"{base}&ring={message['picture']}#{fragment}")
        refused = wait_pushed_ring(browser, "refused")
        assert refused["messages"] == 0 and refused["characters"] == 0 and refused["picture"] is False, refused
        assert ring_picture_event(events)["result"] == "refused"
        assert browser.execute_script("return document.getElementById('ringing-picture').hidden") is True
    finally:
        endpoint.close()
