"""Still pictures the door sends (the ring picture): JPEG size from its frame header, and its pixels decoded by
GStreamer's jpegdec (gst-launch-1.0, from the same Debian packages the door uses) to measure that it is not
blank."""

import subprocess
import tempfile
from pathlib import Path


def jpeg_size(data):
    """(width, height) from the JPEG's start-of-frame segment; raises ValueError if it is not a JPEG."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG (no SOI marker)")
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise ValueError(f"broken JPEG: no marker at byte {at}")
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = int.from_bytes(data[at + 5:at + 7], "big"), int.from_bytes(data[at + 7:at + 9], "big")
            return width, height
        at += 2 + length
    raise ValueError("JPEG without a frame header")


def gray_pixels(data, width, height):
    """The picture decoded by jpegdec as 8-bit gray, rows packed (`width` bytes each)."""
    with tempfile.TemporaryDirectory(prefix="ring-picture-") as directory:
        source, raw = Path(directory) / "in.jpg", Path(directory) / "out.gray"
        source.write_bytes(data)
        subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={source}", "!", "jpegdec", "!", "videoconvert",
                        "!", "video/x-raw,format=GRAY8", "!", "filesink", f"location={raw}"],
                       check=True, capture_output=True, timeout=30)
        decoded = raw.read_bytes()
    stride = (width + 3) // 4 * 4  # GStreamer pads GRAY8 rows to 4 bytes
    if len(decoded) != stride * height:
        raise ValueError(f"jpegdec gave {len(decoded)} bytes, not {stride}x{height}")
    return b"".join(decoded[row * stride:row * stride + width] for row in range(height))


def luma_variance(pixels):
    count = len(pixels)
    mean = sum(pixels) / count
    return sum((p - mean) ** 2 for p in pixels) / count
