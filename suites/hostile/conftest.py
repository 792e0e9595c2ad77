"""Fixtures for the hostile-network tests: the real door (`intercom run`, simulated buttons, snapshot display)
on 127.0.0.1 with a stand-in for systemd's notify socket, so each test can watch, while strangers flood it,
what an owner would notice: the watchdog being fed, the control socket answering, rooms registering, memory.

Everything stays on loopback; each flood is bounded in time.
"""

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))

from polling import poll  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_ROOT = REPO_ROOT / "rootfs-overlay/usr/share/intercom/web"
START_TIMEOUT = 20.0
# systemd's interval for the test door: it pings every half interval, so a ping gap shows a stalled loop.
WATCHDOG_USEC = 2_000_000


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Watchdog(threading.Thread):
    """systemd's notify socket, as a thread that timestamps every WATCHDOG=1 datagram."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.pings = []
        self.ready = threading.Event()
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            if b"READY=1" in data:
                self.ready.set()
            if b"WATCHDOG=1" in data:
                self.pings.append(time.monotonic())

    def longest_gap(self, since):
        """Longest time without a ping between `since` and now."""
        times = [since] + [t for t in self.pings if t > since] + [time.monotonic()]
        return max(b - a for a, b in zip(times, times[1:]))

    def close(self):
        self._halt.set()
        self.join(2)
        self.sock.close()


class Door:
    def __init__(self, binary, workdir, socket_dir, extra_args=(), nofile=None):
        self.binary = binary
        self.nofile = nofile
        self.port = free_port()
        self.control_path = socket_dir / "control.sock"
        self.notify_path = socket_dir / "notify.sock"
        self.workdir = workdir
        self.log_path = workdir / "door.log"
        self.extra_args = tuple(extra_args)
        self.process = None
        self.watchdog = None

    def start(self):
        (self.workdir / "snapshots").mkdir(parents=True, exist_ok=True)
        self.watchdog = Watchdog(str(self.notify_path))
        self.watchdog.start()
        env = dict(os.environ, NOTIFY_SOCKET=str(self.notify_path), WATCHDOG_USEC=str(WATCHDOG_USEC))
        env.pop("WATCHDOG_PID", None)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(self.binary), "run", "--listen", f"127.0.0.1:{self.port}", "--web-root", str(WEB_ROOT),
             "--web-base", f"http://127.0.0.1:{self.port}", "--control", str(self.control_path),
             "--snapshots", str(self.workdir / "snapshots"), *self.extra_args],
            cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=self._limit_descriptors if self.nofile else None)
        poll(lambda: self._alive() and self.watchdog.ready.is_set(), START_TIMEOUT,
             message=lambda: f"the door never said READY=1\n{self.log_tail()}")
        return self

    def _limit_descriptors(self):
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def _alive(self):
        status = self.process.poll()
        if status is not None:
            pytest.fail(f"the door exited with status {status}\n{self.log_tail()}")
        return True

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.watchdog is not None:
            self.watchdog.close()
        if getattr(self, "_log", None):
            self._log.close()

    def log_text(self):
        return self.log_path.read_bytes().decode(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines=60):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def control(self, request, timeout=5.0):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(str(self.control_path))
            connection.sendall(json.dumps(request).encode() + b"\n")
            with connection.makefile("rb") as reader:
                line = reader.readline()
        if not line:
            raise ConnectionError(f"no answer to {request}")
        return json.loads(line)

    def timed_state(self):
        """(seconds `ctl state` took, the state)."""
        started = time.monotonic()
        answer = self.control({"cmd": "state"})
        return time.monotonic() - started, answer["state"]

    def rss_kib(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def ring(self):
        """Presses the doorbell; returns the room (code, peer IDs) once both its IDs are registered."""
        assert self.control({"cmd": "press", "button": "doorbell"})["ok"] is True
        room = poll(lambda: self.control({"cmd": "state"})["state"].get("room"), 10, message="no room opened")
        return room


@pytest.fixture
def binary():
    path = Path(os.environ.get("INTERCOM_BIN", REPO_ROOT / ".build/debug/intercom"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not found: run `swift build` first (or set INTERCOM_BIN)")
    return path


@pytest.fixture
def start_door(binary, tmp_path, request):
    doors = []
    socket_dir = Path(tempfile.mkdtemp(prefix="intercom-hostile-", dir="/tmp"))

    def start(*extra_args, nofile=None):
        directory = socket_dir / str(len(doors))
        directory.mkdir()
        door = Door(binary, tmp_path, directory, extra_args, nofile=nofile)
        doors.append(door)
        return door.start()

    yield start
    for door in doors:
        door.stop()
        if request.node.stash.get(FAILED, False):
            print(f"--- door log ---\n{door.log_tail()}")
    shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.fixture
def door(start_door):
    return start_door()


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report
