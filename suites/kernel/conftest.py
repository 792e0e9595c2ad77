"""Fixtures for the kernel tests, which run inside the test VM (scripts/test-kernel.sh, suites/kernel/guest.sh):
the real door binary started with a config file and driven through its control socket, and a gpio-sim chip
labelled like a Raspberry Pi's header chip whose line levels the tests drive through sysfs.

Outside the VM (no vkms, no gpio-sim) every test here skips: run them with `make test-kernel`.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "suites/e2e"))
from polling import poll  # noqa: E402

RESULTS = Path(os.environ.get("KERNEL_RESULTS", "/run/kernel-out"))
START_TIMEOUT = 60.0  # everything runs emulated (TCG): the door takes seconds to start
STOP_TIMEOUT = 15.0
GPIO_SIM = Path("/sys/kernel/config/gpio-sim")
PI_LABEL = "pinctrl-bcm2711"  # a Pi 4's header chip: what `gpio.chip: auto` looks for


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("KERNEL_RELEASE"):
        skip = pytest.mark.skip(reason="kernel tests run inside the VM: make test-kernel")
        for item in items:
            item.add_marker(skip)


def gpio_tool_chip(chip_name):
    """How the gpiod command-line tools take a chip: positionally in 1.x (bookworm), `-c chip` in 2.x (trixie)."""
    version = subprocess.run(["gpioinfo", "--version"], capture_output=True, text=True).stdout
    major = re.search(r"v(\d+)\.", version)
    assert major, f"gpioinfo --version printed no version: {version!r}"
    return ["-c", chip_name] if int(major.group(1)) >= 2 else [chip_name]


def report(line):
    """A figure for the make test-kernel output (not an assertion): printed and kept in summary.txt."""
    print(line)
    if RESULTS.is_dir():
        with open(RESULTS / "summary.txt", "a") as summary:
            summary.write(line + "\n")


class Door:
    """The intercom binary run with a config file, answering on its control socket."""

    def __init__(self, binary, workdir, config_text, env=None):
        self.binary = binary
        self.workdir = workdir
        self.config = workdir / "intercom.yaml"
        self.config.write_text(config_text.replace("@WORKDIR@", str(workdir)))
        (workdir / "state").mkdir()
        self.control_path = workdir / "control.sock"
        self.log_path = workdir / "door.log"
        self.env = dict(os.environ, **(env or {}))
        self.process = None
        self._log = None
        self._connections = []

    @property
    def command(self):
        return [str(self.binary), "run", "--config", str(self.config), "--control", str(self.control_path),
                "--snapshots", str(self.workdir / "snapshots"), "--web-root",
                str(REPO_ROOT / "rootfs-overlay/usr/share/intercom/web")]

    def start(self, wait=True):
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.command, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=subprocess.STDOUT, env=self.env)
        if wait:
            poll(self._answers, START_TIMEOUT, interval=0.2,
                 message=lambda: f"the door never answered on {self.control_path}\n{self.log_text()}")
        return self

    def _answers(self):
        if self.process.poll() is not None:
            pytest.fail(f"the door exited with {self.process.returncode} while starting:\n{self.log_text()}")
        try:
            return self.control({"cmd": "state"}, timeout=2.0).get("ok") is True
        except (OSError, ValueError):
            return False

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def control(self, request, timeout=10.0):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(str(self.control_path))
            connection.sendall(json.dumps(request).encode() + b"\n")
            with connection.makefile("rb") as reader:
                line = reader.readline()
        if not line:
            raise ConnectionError(f"the control socket closed without answering {request}")
        return json.loads(line)

    def state(self):
        answer = self.control({"cmd": "state"})
        assert answer.get("ok") is True, answer
        return answer["state"]

    def events(self, timeout=30.0):
        """Subscribe now; a generator over the events that follow (dicts), each stamped with `_at` (monotonic)."""
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        connection.connect(str(self.control_path))
        reader = connection.makefile("rb")
        connection.sendall(b'{"cmd":"events"}\n')
        ack = json.loads(reader.readline() or b"null")
        assert isinstance(ack, dict) and ack.get("ok") is True, ack
        self._connections += [reader, connection]

        def stream():
            for line in reader:
                event = json.loads(line)
                event["_at"] = time.monotonic()
                yield event

        return stream()

    def stop(self):
        """SIGTERM, as systemd stops it; returns the exit status."""
        for connection in self._connections:
            connection.close()
        self._connections = []
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"the door ignored SIGTERM for {STOP_TIMEOUT:g} s\n{self.log_text()}")
        self._log.close()
        return self.process.returncode


def next_event(events, predicate, what):
    """The first event from `events` for which predicate holds (a read timing out fails the test)."""
    try:
        for event in events:
            if predicate(event):
                return event
    except TimeoutError:
        pass
    pytest.fail(f"no event: {what}")


@pytest.fixture(scope="session")
def intercom_bin():
    binary = Path(os.environ.get("INTERCOM_BIN", REPO_ROOT / ".build/debug/intercom"))
    if not os.access(binary, os.X_OK):
        pytest.fail(f"intercom binary {binary} not found: build it first (swift build)")
    return binary


@pytest.fixture
def start_door(intercom_bin, tmp_path):
    """start_door(config_text, env=None, wait=True) → a running Door; every one is stopped afterwards."""
    doors = []

    def start(config_text, env=None, wait=True):
        workdir = tmp_path / f"door{len(doors)}"
        workdir.mkdir()
        door = Door(intercom_bin, workdir, config_text, env)
        doors.append(door)
        return door.start(wait)

    yield start
    for door in doors:
        door.stop()


class GPIOSimChip:
    """One gpio-sim chip made through configfs (Documentation/admin-guide/gpio/gpio-sim.rst): `pull(line, up)`
    drives a line's level the way a button wired to ground does (pressed: pulled down)."""

    def __init__(self, name, label, lines=28):
        self.config = GPIO_SIM / name
        bank = self.config / "gpio-bank0"
        bank.mkdir(parents=True)
        (bank / "num_lines").write_text(str(lines))
        (bank / "label").write_text(label)
        (self.config / "live").write_text("1")
        self.chip_name = (bank / "chip_name").read_text().strip()
        device = (self.config / "dev_name").read_text().strip()
        self.sysfs = Path("/sys/devices/platform") / device / self.chip_name
        self.path = f"/dev/{self.chip_name}"
        poll(lambda: os.path.exists(self.path), 10, message=f"{self.path} never appeared")

    def pull(self, line, up):
        (self.sysfs / f"sim_gpio{line}" / "pull").write_text("pull-up" if up else "pull-down")

    def value(self, line):
        return int((self.sysfs / f"sim_gpio{line}" / "value").read_text())

    def remove(self):
        (self.config / "live").write_text("0")
        (self.config / "gpio-bank0").rmdir()
        self.config.rmdir()


@pytest.fixture
def pi_chip():
    """A gpio-sim chip labelled like a Pi 4's header (pinctrl-bcm2711), 28 lines, all idle (pulled up)."""
    chip = GPIOSimChip(f"pi-{os.getpid()}", PI_LABEL)
    for line in range(28):
        chip.pull(line, up=True)
    yield chip
    chip.remove()
