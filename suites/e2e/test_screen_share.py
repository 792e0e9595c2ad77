"""Screen sharing in a browser-to-browser room and with the door: the sharer's video sender switches from its camera to a
screen and back, without a new offer, and the other page's decoded picture follows.

The two sources are told apart by what they show. The sharing page's camera is a plain magenta clip
(Chromium's `--use-file-for-fake-video-capture`, a Y4M file written here); its screen is what headless
Chromium gives getDisplayMedia under `--use-fake-ui-for-media-stream` (no picker; a fake green test picture,
not the file). The receiving page draws its <video id=remote> into a canvas and reads the mean colour; in a
call with the door, the door's screen snapshot (the caller's video fills it) is read the same way.
"""

import base64
from pathlib import Path

from selenium.webdriver.common.by import By

from polling import poll
from test_call import check_device_media_rises, click, join, ring, wait_page_state
from test_web_client import (CALL_TIMEOUT, both_in_call, create_room, frames_rise, hooks, phone, screenshot,
                             wait_chat, wait_hook, wait_incoming)

SWITCH_TIMEOUT = 15.0

# Mean colour of the received picture, from a 64×36 canvas copy of the <video>.
MEAN_COLOUR_JS = """
const video = document.getElementById('remote');
if (!video.videoWidth) return null;
const canvas = document.createElement('canvas');
canvas.width = 64; canvas.height = 36;
const context = canvas.getContext('2d');
context.drawImage(video, 0, 0, 64, 36);
const data = context.getImageData(0, 0, 64, 36).data;
const sum = [0, 0, 0];
for (let i = 0; i < data.length; i += 4) { sum[0] += data[i]; sum[1] += data[i + 1]; sum[2] += data[i + 2]; }
const n = data.length / 4;
return sum.map((value) => Math.round(value / n));
"""

# Stands in for the browser's own "Stop sharing" bar, which headless Chromium does not draw: the user agent
# ends the track (readyState "ended") and fires `ended` on it.
BROWSER_STOPS_SHARING_JS = """
const track = document.getElementById('local').srcObject.getVideoTracks()[0];
track.stop();
track.dispatchEvent(new Event('ended'));
return track.label;
"""


# Mean colour of the middle of a PNG (the door's screen snapshot: the caller's video fills it), decoded by the
# browser from a data: URL (the page's CSP allows data: images).
PNG_MIDDLE_COLOUR_JS = """
const [base64, done] = arguments;
const image = new Image();
image.onload = () => {
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 36;
  const context = canvas.getContext('2d');
  const w = image.naturalWidth, h = image.naturalHeight;
  context.drawImage(image, w / 4, h / 4, w / 2, h / 2, 0, 0, 64, 36);
  const data = context.getImageData(0, 0, 64, 36).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i += 4) { sum[0] += data[i]; sum[1] += data[i + 1]; sum[2] += data[i + 2]; }
  done(sum.map((value) => Math.round(value / (data.length / 4))));
};
image.onerror = () => done(null);
image.src = 'data:image/png;base64,' + base64;
"""


def write_magenta_y4m(path, width=320, height=240, frames=10):
    """A Y4M clip of plain magenta (Y 105, Cb 212, Cr 234 in 4:2:0)."""
    plane = width * height
    frame = b"FRAME\n" + bytes([105]) * plane + bytes([212]) * (plane // 4) + bytes([234]) * (plane // 4)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)
    return path


def source_of(colour):
    """'camera' (the magenta clip), 'screen' (Chromium's green fake screen) or None (neither, yet)."""
    if colour is None:
        return None
    red, green, blue = colour
    if red > 150 and blue > 150 and green < 100:
        return "camera"
    if green > 100 and red < 80 and blue < 80:
        return "screen"
    return None


def wait_source(driver, wanted):
    seen = []
    poll(lambda: seen.append(driver.execute_script(MEAN_COLOUR_JS)) or source_of(seen[-1]) == wanted,
         SWITCH_TIMEOUT, interval=0.2,
         message=lambda: f"the received picture never showed the {wanted}: mean colours {seen[-5:]}")


def test_screen_sharing_switches_the_received_picture_and_back(device, browser, more_browsers, tmp_path):
    clip = write_magenta_y4m(Path(tmp_path) / "magenta.y4m")
    host = phone(browser)
    sharer = phone(more_browsers(f"--use-file-for-fake-video-capture={clip}"))

    code = create_room(host, device)
    sharer.get(f"http://localhost:{device.port}/?room={code}")
    wait_page_state(sharer, "ready", CALL_TIMEOUT)
    click(sharer, "join")
    wait_incoming(host)
    click(host, "answer")
    both_in_call(host, sharer)
    connection_id = hooks(sharer)["connectionId"]

    # The camera first: the host decodes the magenta clip.
    frames_rise(host)
    wait_source(host, "camera")
    button = sharer.find_element(By.ID, "screen")
    poll(lambda: button.is_displayed() and button.is_enabled(), CALL_TIMEOUT,
         message="the sharer has no usable Share screen button")
    assert button.text == "Share screen"

    # Share: the same call (no new offer) now carries the screen.
    click(sharer, "screen")
    wait_hook(sharer, "sharingScreen", True, SWITCH_TIMEOUT)
    assert button.text == "Stop sharing" and button.get_attribute("aria-pressed") == "true"
    assert not sharer.find_element(By.ID, "camera").is_enabled(), "Camera off must wait while sharing"
    wait_source(host, "screen")
    frames_rise(host)
    assert hooks(sharer)["connectionId"] == connection_id and hooks(host)["state"] == "in-call"
    screenshot(sharer, "sharing-screen")
    screenshot(host, "shared-screen")

    # Stop sharing with the page's button: the camera again.
    click(sharer, "screen")
    wait_hook(sharer, "sharingScreen", False, SWITCH_TIMEOUT)
    wait_source(host, "camera")
    assert sharer.find_element(By.ID, "camera").is_enabled()

    # Share again, then the browser ends the capture itself: back to the camera as well.
    click(sharer, "screen")
    wait_hook(sharer, "sharingScreen", True, SWITCH_TIMEOUT)
    wait_source(host, "screen")
    assert sharer.execute_script(BROWSER_STOPS_SHARING_JS).startswith("screen:")
    wait_hook(sharer, "sharingScreen", False, SWITCH_TIMEOUT)
    wait_source(host, "camera")
    frames_rise(host)
    assert hooks(sharer)["connectionId"] == connection_id
    assert hooks(host)["state"] == "in-call" and hooks(sharer)["state"] == "in-call"


def door_screen_colour(device, browser):
    snapshot = device.state()["snapshot"]
    if not snapshot or not Path(snapshot).exists():
        return None
    data = base64.b64encode(Path(snapshot).read_bytes()).decode()
    return browser.execute_async_script(PNG_MIDDLE_COLOUR_JS, data)


def wait_door_shows(device, browser, wanted):
    seen = []
    poll(lambda: seen.append(door_screen_colour(device, browser)) or source_of(seen[-1]) == wanted,
         SWITCH_TIMEOUT, interval=0.3,
         message=lambda: f"the door's screen never showed the {wanted}: mean colours {seen[-5:]}")


def test_screen_shared_with_the_door_shows_on_its_screen(device, more_browsers, tmp_path):
    clip = write_magenta_y4m(Path(tmp_path) / "magenta.y4m")
    phone_page = more_browsers(f"--use-file-for-fake-video-capture={clip}")
    join(phone_page, ring(device))
    check_device_media_rises(device)
    wait_door_shows(device, phone_page, "camera")

    # The door decodes and shows whatever the page's video sender carries: the screen, then the camera.
    click(phone_page, "screen")
    wait_hook(phone_page, "sharingScreen", True, SWITCH_TIMEOUT)
    wait_door_shows(device, phone_page, "screen")
    click(phone_page, "screen")
    wait_hook(phone_page, "sharingScreen", False, SWITCH_TIMEOUT)
    wait_door_shows(device, phone_page, "camera")
    check_device_media_rises(device)

    # The door takes pictures (suites/e2e/test_picture_to_door.py): it says so first thing on the ordered chat
    # connection, so after a chat message from the door the page offers to send one.
    assert device.control({"cmd": "chat", "text": "Thanks, I can see it"}) == {"ok": True}
    wait_chat(phone_page, ("them", "Thanks, I can see it"))
    assert hooks(phone_page)["peerTakesFiles"] is True
