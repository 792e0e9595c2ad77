"""The ring picture: at the press the door takes a still from its camera and the notifications carry it — ntfy
as an attachment (the JPEG is the body of a PUT to the topic, the message in headers), a webhook as inline
base64. The picture must be a JPEG of the camera's size that jpegdec decodes and that is not blank. With
`notify.picture: false` the ring goes without one."""

import base64
import json

from pictures import gray_pixels, jpeg_size, luma_variance
from polling import poll
from receivers import NtfyServer, Receiver
from test_notify import NTFY_TOPIC, press_doorbell

CAMERA = (480, 360)  # not the default 640x480: the picture must follow the configured camera size


def write_config(path, ntfy, webhook, picture=None):
    # A loaded test machine can take most of a second to start the camera: the ring may wait longer here.
    lines = ["media:", f"  resolution: {CAMERA[0]}x{CAMERA[1]}", "notify:", "  picture_wait_ms: 4000"]
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
