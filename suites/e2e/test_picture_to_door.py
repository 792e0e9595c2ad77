"""A picture sent from the phone to the door during a call is shown on the door's screen for a few seconds;
any other file is refused with words the page shows. The page's own file sharing (js/file-share.js) offers the
file once the door announced that it takes pictures; the door decodes it (jpegdec/pngdec) and draws it where
the caller's video was. The door's screen snapshot shows the picture's colour, then the caller's video again.
"""

import struct
import zlib
from pathlib import Path

from polling import poll
from test_call import check_device_media_rises, join, ring
from test_file_share import send_file, wait_transfer
from test_screen_share import door_screen_colour
from test_web_client import CALL_TIMEOUT, hooks, wait_hook

SHOWN_TIMEOUT = 15.0
SHOW_SECONDS = 5.0  # Device.sentPictureMillis


def write_png(path, width, height, rgb):
    """A plain PNG of one colour (8-bit RGB), written with zlib: no imaging library needed."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def is_orange(colour):
    return colour is not None and colour[0] > 200 and 100 < colour[1] < 170 and colour[2] < 60


def test_a_picture_from_the_phone_shows_on_the_doors_screen_and_other_files_are_refused(device, more_browsers,
                                                                                     tmp_path):
    phone_page = more_browsers()
    join(phone_page, ring(device))
    check_device_media_rises(device)
    wait_hook(phone_page, "peerTakesFiles", True, CALL_TIMEOUT)
    seen = []
    poll(lambda: seen.append(door_screen_colour(device, phone_page)) or (seen[-1] is not None and not is_orange(seen[-1])),
         SHOWN_TIMEOUT, interval=0.3, message=lambda: f"the door's screen shows no caller video: {seen[-3:]}")

    # Anything but a picture is refused, in words, and nothing changes at the door.
    notes = Path(tmp_path) / "notes.txt"
    notes.write_text("not a picture\n")
    send_file(phone_page, notes)
    refused = wait_transfer(phone_page, "out", "notes.txt", "refused", SHOWN_TIMEOUT)
    assert refused["text"] == "Refused: the door shows pictures only (JPEG or PNG).", refused

    # A wide orange picture (not the screen's shape: it is fitted with borders) fills the middle of the screen.
    picture = write_png(Path(tmp_path) / "parcel.png", 1200, 500, (255, 136, 0))
    send_file(phone_page, picture)
    sent = wait_transfer(phone_page, "out", "parcel.png", "sent", SHOWN_TIMEOUT)
    assert sent["bytes"] == picture.stat().st_size, sent
    seen.clear()
    poll(lambda: seen.append(door_screen_colour(device, phone_page)) or is_orange(seen[-1]), SHOWN_TIMEOUT,
         interval=0.2, message=lambda: f"the door's screen never showed the orange picture: {seen[-5:]}")
    print(f"door screen while the picture shows: {seen[-1]}")
    device.wait_for_log(r"showing a 1200x500 image/png picture from the caller")

    # After a few seconds the caller's video is back.
    seen.clear()
    poll(lambda: seen.append(door_screen_colour(device, phone_page)) or (seen[-1] is not None and not is_orange(seen[-1])),
         SHOW_SECONDS + SHOWN_TIMEOUT, interval=0.3,
         message=lambda: f"the picture never went away: {seen[-3:]}")
    assert hooks(phone_page)["state"] == "in-call"
    check_device_media_rises(device)
