"""The running device's control socket refuses a malformed request with an error that names the field, and the
refused request changes nothing (docs/control-socket.md#limits-and-errors). No network namespace: the device
listens on loopback and nobody calls it."""

import json
import os
import signal
import socket
import subprocess

import pytest

from test_watchdog import DEADLINE, NotifySocket, free_port


def request(path, message):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(json.dumps(message).encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    return json.loads(reply)


@pytest.fixture
def control(intercom_bin, tmp_path):
    """A running device (test sources, snapshots, loopback server); yields its control socket's path."""
    notify = NotifySocket(str(tmp_path / "notify.sock"))
    env = {k: v for k, v in os.environ.items() if k not in ("STATE_DIRECTORY", "WATCHDOG_USEC", "WATCHDOG_PID")}
    env["NOTIFY_SOCKET"] = str(tmp_path / "notify.sock")
    path = tmp_path / "control.sock"
    log = open(tmp_path / "device.log", "w")
    device = subprocess.Popen(
        [intercom_bin, "run", "--listen", f"127.0.0.1:{free_port()}", "--control", str(path),
         "--snapshots", str(tmp_path / "snapshots")],
        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert notify.receive_until(lambda m: any(f.get("READY") == "1" for _, f in m), DEADLINE), \
            (tmp_path / "device.log").read_text()
        yield path
        device.send_signal(signal.SIGTERM)
        assert device.wait(timeout=10) == 0
    finally:
        if device.poll() is None:
            device.kill()
            device.wait()
        notify.close()
        log.close()


@pytest.mark.parametrize("long", ["yes", 1, "true", [], {}])
def test_a_press_whose_long_is_not_a_boolean_is_refused_and_rings_nothing(control, long):
    reply = request(control, {"cmd": "press", "button": "doorbell", "long": long})
    assert reply["ok"] is False, reply
    assert "long" in reply["error"], reply
    assert request(control, {"cmd": "state"})["state"]["phase"] == "idle"


@pytest.mark.parametrize("message", [
    {"cmd": "press"},
    {"cmd": "press", "button": "bell"},
    {"cmd": "press", "button": 1},
])
def test_a_press_without_a_known_button_is_refused_and_rings_nothing(control, message):
    reply = request(control, message)
    assert reply["ok"] is False, reply
    assert "button" in reply["error"], reply
    assert request(control, {"cmd": "state"})["state"]["phase"] == "idle"


def test_a_well_formed_press_rings(control):
    assert request(control, {"cmd": "press", "button": "doorbell", "long": False}) == {"ok": True}
    state = request(control, {"cmd": "state"})["state"]
    assert state["phase"] == "room" and state["room"]["code"], state
