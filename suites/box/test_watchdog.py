"""The process speaks systemd's notify protocol the way `Type=notify` + `WatchdogSec=` expect: a test double
listens on a NOTIFY_SOCKET datagram socket (a path, and the abstract `@name` form), and records READY=1 once
the device answers on its control socket, WATCHDOG=1 well within every interval, and STOPPING=1 on SIGTERM.
"""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

WATCHDOG_USEC = 1_000_000  # systemd kills the service when a ping is this late
DEADLINE = 20.0  # the first GStreamer registry scan on a new machine takes seconds


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NotifySocket:
    """A stand-in for systemd's notify socket: records each datagram with its arrival time."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.messages = []  # (monotonic seconds, {key: value})

    def receive_until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate(self.messages):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                return False
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append((time.monotonic(), fields))
        return True

    def times_of(self, key):
        return [at for at, fields in self.messages if key in fields]

    def close(self):
        self.sock.close()


def control_state(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(b'{"cmd":"state"}\n')
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    return json.loads(reply)


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_ready_then_watchdog_pings_then_stopping(intercom_bin, tmp_path, kind):
    if kind == "path":
        address = str(tmp_path / "notify.sock")
        env_value = address
    else:
        name = f"intercom-test-notify-{os.getpid()}"
        address = "\0" + name
        env_value = "@" + name
    notify = NotifySocket(address)
    control = tmp_path / "control.sock"
    env = dict(os.environ, NOTIFY_SOCKET=env_value, WATCHDOG_USEC=str(WATCHDOG_USEC))
    env.pop("WATCHDOG_PID", None)
    log = open(tmp_path / "device.log", "w")
    device = subprocess.Popen(
        [intercom_bin, "run", "--listen", f"127.0.0.1:{free_port()}", "--control", str(control),
         "--snapshots", str(tmp_path / "snapshots")],
        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = notify.receive_until(lambda m: any(f.get("READY") == "1" for _, f in m), DEADLINE)
        assert ready, (tmp_path / "device.log").read_text()
        # READY=1 means up: the control socket answers at once.
        assert control_state(control)["state"]["phase"] == "idle"
        ready_message = next(f for _, f in notify.messages if f.get("READY") == "1")
        assert ready_message["MAINPID"] == str(device.pid)

        # Pings at half the interval: four of them arrive within about two seconds.
        assert notify.receive_until(lambda m: len([1 for _, f in m if f.get("WATCHDOG") == "1"]) >= 4, 5.0), \
            notify.messages
        pings = notify.times_of("WATCHDOG")
        gaps = [b - a for a, b in zip([notify.times_of("READY")[0]] + pings, pings)]
        assert max(gaps) < WATCHDOG_USEC / 1e6, gaps

        device.send_signal(signal.SIGTERM)
        assert device.wait(timeout=10) == 0
        assert notify.receive_until(lambda m: any(f.get("STOPPING") == "1" for _, f in m), 2.0)
    finally:
        if device.poll() is None:
            device.kill()
            device.wait()
        notify.close()
        log.close()


def test_no_ping_when_the_watchdog_is_for_another_process(intercom_bin, tmp_path):
    """WATCHDOG_PID for another process means the watchdog is not ours: READY=1 only, no pings."""
    address = str(tmp_path / "notify.sock")
    notify = NotifySocket(address)
    control = tmp_path / "control.sock"
    env = dict(os.environ, NOTIFY_SOCKET=address, WATCHDOG_USEC="200000", WATCHDOG_PID="1")
    device = subprocess.Popen(
        [intercom_bin, "run", "--listen", f"127.0.0.1:{free_port()}", "--control", str(control),
         "--snapshots", str(tmp_path / "snapshots")],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert notify.receive_until(lambda m: any(f.get("READY") == "1" for _, f in m), DEADLINE)
        # Ten would-be intervals pass with no ping.
        assert not notify.receive_until(lambda m: any("WATCHDOG" in f for _, f in m), 1.0)
    finally:
        device.send_signal(signal.SIGTERM)
        device.wait(timeout=10)
        notify.close()
