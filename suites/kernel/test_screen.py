"""The screen straight to KMS/DRM on vkms: the door started with `display.output: drm` shows the room screen
after a doorbell press; the picture vkms scans out is read back (drm-readback, built on the host from
suites/kernel/drm-readback.c) and its QR code decodes to the room's join link, turned the way `display.rotation`
says, at the size `display.mode` asks for; on SIGTERM the console's framebuffer is on the CRTC again.
"""

import json
import re
import subprocess
import time

import pytest

from conftest import RESULTS, next_event, report
from test_buttons import DOORBELL, door_config

CARD = "/dev/dri/card0"
READBACK = RESULTS / "drm-readback"


def scanout(path=None):
    """What the first active CRTC scans out: {"crtc", "fb", "width", "height", "format", "mode"}."""
    args = [str(READBACK), CARD] + ([str(path)] if path else [])
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def decode_qr(path):
    """(the QR's text, zbar's orientation of it: UP, RIGHT, DOWN or LEFT) from a picture, ("", "") if none."""
    result = subprocess.run(["zbarimg", "--quiet", "--xml", str(path)], capture_output=True, text=True, timeout=120)
    symbol = re.search(r"<symbol [^>]*?orientation='(\w+)'.*?<data><!\[CDATA\[(.*?)\]\]></data>", result.stdout, re.S)
    return (symbol.group(2).strip(), symbol.group(1)) if symbol else ("", "")


# How the QR reads on the panel when the picture is turned clockwise by `rotation` (zbar's orientation names:
# RIGHT reads top to bottom, a picture turned a quarter clockwise).
ORIENTATION = {0: "UP", 90: "RIGHT", 180: "DOWN", 270: "LEFT"}
PREFERRED = "1024x768"  # vkms's preferred mode


# Every rotation at vkms's preferred mode, and two more of its modes (display.mode), one of them turned.
@pytest.mark.parametrize("mode,rotation", [("auto", 0), ("auto", 90), ("auto", 180), ("auto", 270),
                                           ("1280x720", 0), ("1920x1080", 90)])
def test_room_screen_is_scanned_out_and_its_qr_decodes_to_the_join_link(pi_chip, start_door, tmp_path, mode,
                                                                         rotation):
    console = scanout()
    assert console["fb"], "the console's framebuffer (fbdev emulation) is not on the CRTC before the door starts"
    display = f"  output: drm\n  rotation: {rotation}\n  mode: {mode}\n"
    door = start_door(door_config(output="drm").replace("  output: drm\n", display))
    size = PREFERRED if mode == "auto" else mode
    assert f"kmssink on {CARD} Virtual-1 {size}" in door.log_text(), door.log_text()

    events = door.events()
    pi_chip.pull(DOORBELL, up=False)
    time.sleep(0.3)
    released_at = time.monotonic()  # a short press is known at its release
    pi_chip.pull(DOORBELL, up=True)
    shown = next_event(events, lambda e: e.get("event") == "screen" and e.get("screen") == "room",
                       "the room screen on vkms after a doorbell press on the gpio-sim line")
    edge_to_screen = (shown["_at"] - released_at) * 1000
    link = door.control({"cmd": "link"})["link"]

    # The frame reaches the plane a little after the event: poll until the read-back QR decodes.
    picture = tmp_path / f"scanout-{mode}-{rotation}.ppm"
    deadline = time.monotonic() + 60
    (decoded, orientation), frame = ("", ""), {}
    while time.monotonic() < deadline:
        frame = scanout(picture)
        if frame["fb"] != console["fb"]:
            decoded, orientation = decode_qr(picture)
            if decoded == link:
                break
        time.sleep(0.5)
    keep = RESULTS / picture.name
    keep.write_bytes(picture.read_bytes())
    assert frame["fb"] != console["fb"], f"the door's picture never reached the CRTC: {frame}"
    assert decoded == link, f"the scanned-out QR says {decoded!r}, the room's link is {link!r} (picture: {keep})"
    assert f"{frame['width']}x{frame['height']}" == size, f"scanned out {frame}, display.mode {mode}"
    assert orientation == ORIENTATION[rotation], f"rotation {rotation}: the QR reads {orientation} (picture: {keep})"
    report(f"screen (mode {mode}, rotation {rotation}, QR reads {orientation}): scanned out {frame['width']}x{frame['height']} {frame['format']} "
           f"mode {frame['mode']}; QR decoded from the read-back frame: {decoded}; doorbell release edge → room screen "
           f"event {edge_to_screen:.0f} ms")

    assert door.stop() == 0, door.log_text()
    restored = scanout()
    assert restored["fb"] == console["fb"], f"after SIGTERM the CRTC shows fb {restored['fb']}, not the console's {console}"
