"""`intercom probe` on this machine (no GPIO, no DRM, no camera, no sound card; GStreamer with x264enc and
openh264enc): each line OK, `--` (a note) or MISSING with what to do, and exit 1 when something is missing."""

import re
import subprocess
from pathlib import Path

import pytest

LINE = re.compile(r"^(OK|--|MISSING) +(\w+) +(.+)$")


def probe(intercom_bin, *args):
    result = subprocess.run([intercom_bin, "probe", *args], capture_output=True, text=True, timeout=60)
    lines = result.stdout.splitlines()
    for line in lines:
        assert LINE.match(line), line
    return result.returncode, lines


def test_media_reports_the_encoders_and_the_choice(intercom_bin, repo_root):
    status, lines = probe(intercom_bin, "media", "--config", repo_root / "config/intercom.yaml")
    assert any(re.match(r"OK +media +GStreamer 1\.\d+", line) for line in lines), lines
    assert any(re.match(r"OK +encoder +x264enc present", line) for line in lines), lines
    # The plan `intercom run` would log: encoder, source, size and bitrate from the config, sound, echo cancellation.
    assert any(re.match(r"OK +media +would use: x264enc; .*640x480@30 1500 kbit/s, .*echo cancellation on", line)
               for line in lines), lines
    if not Path("/sys/class/video4linux").exists():
        assert any(re.match(r"-- +media +camera: none found .*sending the test picture", line) for line in lines), lines
    if not Path("/proc/asound/cards").exists():
        assert status == 1
        assert any(line.startswith("MISSING  audio") and "→" in line for line in lines), lines


def test_a_forced_encoder_that_is_absent_is_missing(intercom_bin, tmp_path):
    config = tmp_path / "intercom.yaml"
    config.write_text("media:\n  encoder: v4l2h264enc\n")
    status, lines = probe(intercom_bin, "media", "--config", config)
    if any(re.match(r"OK +encoder +v4l2h264enc present", line) for line in lines):
        pytest.skip("this machine has the hardware encoder")
    assert status == 1
    assert any("media.encoder v4l2h264enc is forced but absent → set media.encoder: auto" in line for line in lines)


def test_gpio_without_chips_tells_what_to_do(intercom_bin, repo_root, tmp_path):
    if list(Path("/dev").glob("gpiochip*")):
        pytest.skip("this machine has GPIO chips")
    status, lines = probe(intercom_bin, "gpio", "--config", repo_root / "config/intercom.yaml")
    assert status == 1
    assert "MISSING  gpio       no /dev/gpiochip* devices → this is not a Raspberry Pi" in "\n".join(lines)

    # With no buttons configured, having no GPIO is fine.
    config = tmp_path / "intercom.yaml"
    config.write_text("door:\n  name: Test\n")
    status, lines = probe(intercom_bin, "gpio", "--config", config)
    assert status == 0, lines
    assert any(line.startswith("--       gpio") and "none needed: no buttons are configured" in line
               for line in lines), lines
    # Which libgpiod the door loaded, so a report says which library would drive the buttons.
    assert any(re.match(r"-- +gpio +libgpiod \d+\.\d+.* \(API [12]\)$", line) for line in lines), lines


def test_signaling_reports_an_unreachable_external_server(intercom_bin, tmp_path):
    config = tmp_path / "intercom.yaml"
    # Port 9 on loopback: nothing listens there.
    config.write_text("signaling:\n  listen: 'off'\n  server: ws://127.0.0.1:9\nweb:\n  base: http://door.example:8080\n")
    status, lines = probe(intercom_bin, "signaling", "--config", config)
    assert status == 1
    assert any(line.startswith("MISSING  signaling  127.0.0.1:9 not reachable") for line in lines), lines


def test_a_broken_config_is_reported_not_crashed_on(intercom_bin):
    broken = Path(__file__).parent / "configs/rotation_45.yaml"
    status, lines = probe(intercom_bin, "state", "--config", broken)
    assert status == 1
    assert any(line.startswith("MISSING  config") and "display.rotation" in line for line in lines), lines
