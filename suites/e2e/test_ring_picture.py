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
