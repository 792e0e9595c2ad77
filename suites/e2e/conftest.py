"""Fixtures for the end-to-end tests: a network namespace, the real device binary, headless Chromium.

libnice gathers no loopback candidates, so the tests run in a network namespace of their own that holds a
veth pair. The pytest process itself moves into it (setns), so the device, chromedriver and Chromium all
start inside it, and selenium reaches chromedriver on the namespace's own localhost.
"""

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from polling import poll

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = ".build/debug/intercom"
WEB_ROOT = "rootfs-overlay/usr/share/intercom/web"

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]

CLONE_NEWNET = 0x40000000
NAMESPACE_PREFIX = "intercom-e2e-"
DEVICE_START_TIMEOUT = 20.0  # the first GStreamer registry scan on a new machine takes seconds
DEVICE_STOP_TIMEOUT = 5.0
LOG_TAIL_LINES = 80
# The walking-skeleton flow (ring → join → in call) lets the room code alone in. Tests of the knock policy
# run the device's own defaults with @pytest.mark.device_args() (or pass other options in it).
DEFAULT_DEVICE_ARGS = ("--knocks-need-answer", "false")
# INTERCOM_E2E_VERBOSE=1 runs every device with --verbose (debug log lines), for chasing a flake.
if os.environ.get("INTERCOM_E2E_VERBOSE"):
    DEFAULT_DEVICE_ARGS = (*DEFAULT_DEVICE_ARGS, "--verbose")

# Diagnostics that fixtures register for the failure report: (section title, callable returning text).
DIAGNOSTICS = pytest.StashKey[list]()


# --- failure reports -----------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for title, describe in item.stash.get(DIAGNOSTICS, []):
            try:
                text = describe()
            except Exception as error:  # the browser or device may be the thing that broke
                text = f"(unavailable: {error!r})"
            report.sections.append((title, text))
    return report


def pytest_configure(config):
    config.addinivalue_line("markers", "device_args(*args): options for `intercom run` instead of "
                                       "DEFAULT_DEVICE_ARGS (no args: the device's own defaults)")


def _add_diagnostic(request, title, describe):
    request.node.stash.setdefault(DIAGNOSTICS, []).append((title, describe))


# --- network namespace ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Namespace:
    name: str
    addresses: tuple = ("10.200.0.1", "10.200.0.2")


def _ip(*args):
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"`ip {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout


def _setns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns(CLONE_NEWNET): {os.strerror(errno)}")


def _remove_stale_namespaces():
    """Delete namespaces left by earlier runs whose pytest process is gone (killed mid-run)."""
    for line in _ip("netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        if not name.startswith(NAMESPACE_PREFIX):
            continue
        pid = name[len(NAMESPACE_PREFIX):]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture(scope="session")
def netns():
    """A fresh network namespace with lo and a veth pair v0 (10.200.0.1) <-> v1 (10.200.0.2), entered by
    this process for the whole session and deleted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("the end-to-end tests need root: they create a network namespace "
                    "(ip netns add) with a veth pair and enter it with setns(2)")
    if shutil.which("ip") is None:
        pytest.fail("`ip` not found: install iproute2 (scripts/deps.sh test does)")

    _remove_stale_namespaces()
    name = f"{NAMESPACE_PREFIX}{os.getpid()}"
    _ip("netns", "add", name)
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        _ip("-n", name, "addr", "add", "10.200.0.1/24", "dev", "v0")
        _ip("-n", name, "addr", "add", "10.200.0.2/24", "dev", "v1")
        _ip("-n", name, "link", "set", "v0", "up")
        _ip("-n", name, "link", "set", "v1", "up")
        # The veth's IPv6 link-local addresses are tentative for a second or two (duplicate address detection);
        # when they settle Chromium sees a "network change" and fails what it is loading just then with
        # ERR_NETWORK_CHANGED. Let the namespace settle before any browser starts.
        poll(lambda: not _ip("-n", name, "-6", "addr", "show", "tentative").strip(), 10,
             message="the namespace's IPv6 addresses stayed tentative")

        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield Namespace(name)
        finally:
            _setns(original)
    finally:
        os.close(original)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


# --- the device ----------------------------------------------------------------------------------------


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("0.0.0.0", 0))
        return probe.getsockname()[1]


class Device:
    """The real intercom binary with simulated buttons and the snapshot display, driven through its
    control socket (newline-delimited JSON: one request line, one response line)."""

    def __init__(self, binary, workdir, socket_dir, extra_args=DEFAULT_DEVICE_ARGS):
        self.binary = binary
        self.extra_args = tuple(extra_args)
        self.port = _free_port()
        self.control_path = socket_dir / "control.sock"
        self.snapshots = workdir / "snapshots"
        self.log_path = workdir / "device.log"
        self.process = None
        self.stopped_by = None
        self._log_file = None
        self._event_connections = []

    @property
    def command(self):
        return [
            str(self.binary), "run",
            "--listen", f"0.0.0.0:{self.port}",
            "--web-root", WEB_ROOT,
            "--web-base", f"http://localhost:{self.port}",
            "--control", str(self.control_path),
            "--snapshots", str(self.snapshots),
            *self.extra_args,
        ]

    def start(self):
        self.snapshots.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                        stdout=self._log_file, stderr=subprocess.STDOUT)
        poll(self._answers_state, DEVICE_START_TIMEOUT,
             message=lambda: f"the device's control socket {self.control_path} never answered "
                             f"{{\"cmd\":\"state\"}}\n{self.log_tail()}")

    def _answers_state(self):
        self.fail_if_exited("while starting")
        try:
            return self.control({"cmd": "state"}, timeout=1.0).get("ok") is True
        except (OSError, ValueError):
            return False

    def fail_if_exited(self, context):
        status = self.process.poll()
        if status is not None:
            pytest.fail(f"the device exited {context} with status {status}:\n{self.log_tail()}")

    def stop(self):
        for connection in self._event_connections:
            connection.close()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.stopped_by = "SIGTERM"
            try:
                self.process.wait(DEVICE_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self.stopped_by = "SIGKILL"
                warnings.warn(f"the device ignored SIGTERM for {DEVICE_STOP_TIMEOUT:g} s and was killed")
        if self._log_file is not None:
            self._log_file.close()

    # Log

    def log_text(self):
        return self.log_path.read_bytes().decode("utf-8", errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines=LOG_TAIL_LINES):
        text = self.log_text().splitlines()
        header = f"--- device log {self.log_path}, last {min(lines, len(text))} of {len(text)} lines ---"
        return "\n".join([header, *text[-lines:]])

    def wait_for_log(self, regex, timeout=10.0):
        """The first match of `regex` in the log, waiting up to `timeout` seconds for it."""
        pattern = re.compile(regex)

        def search():
            self.fail_if_exited(f"while waiting for a log line matching {regex!r}")
            return pattern.search(self.log_text())

        return poll(search, timeout, interval=0.1,
                    message=lambda: f"no device log line matches {regex!r}\n{self.log_tail()}")

    # Control socket

    def _connect(self, timeout):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            connection.connect(str(self.control_path))
        except OSError:
            connection.close()
            raise
        return connection

    def control(self, request, timeout=5.0):
        """Send one request, return the one-line JSON response as a dict."""
        with self._connect(timeout) as connection:
            connection.sendall(json.dumps(request).encode() + b"\n")
            with connection.makefile("rb") as reader:
                line = reader.readline()
        if not line:
            raise ConnectionError(f"the control socket closed without answering {request}")
        return json.loads(line)

    def state(self):
        """The `state` object of a {"cmd":"state"} response."""
        answer = self.control({"cmd": "state"})
        assert answer.get("ok") is True, f"state request failed: {answer}"
        return answer["state"]

    def events(self, timeout=10.0):
        """Subscribe now; return a generator over the events that follow, one dict per line.
        A read waiting longer than `timeout` seconds raises TimeoutError."""
        connection = self._connect(timeout)
        reader = connection.makefile("rb")
        try:
            connection.sendall(b'{"cmd":"events"}\n')
            ack = json.loads(reader.readline() or b"null")
            if not isinstance(ack, dict) or ack.get("ok") is not True:
                raise AssertionError(f"events request failed: {ack}")
        except BaseException:
            reader.close()
            connection.close()
            raise

        # Closed at teardown even if the generator was never started (its finally would not run).
        self._event_connections += [reader, connection]

        def stream():
            try:
                for line in reader:
                    yield json.loads(line)
            finally:
                reader.close()
                connection.close()

        return stream()


@pytest.fixture
def device(netns, request, tmp_path):
    """The device binary ($INTERCOM_BIN, default .build/debug/intercom) running in the namespace,
    answering on its control socket; stopped with SIGTERM (SIGKILL after 5 s) afterwards."""
    binary = Path(os.environ.get("INTERCOM_BIN", DEFAULT_BINARY))
    if not binary.is_absolute():
        binary = REPO_ROOT / binary
    if not os.access(binary, os.X_OK):
        pytest.fail(f"device binary {binary} not found: build it first (`swift build`; `make e2e` does)")

    # A Unix socket path must fit in 108 bytes, so the socket lives in a short directory of its own.
    socket_dir = Path(tempfile.mkdtemp(prefix="intercom-e2e-", dir="/tmp"))
    marker = request.node.get_closest_marker("device_args")
    device = Device(binary, tmp_path, socket_dir, marker.args if marker else DEFAULT_DEVICE_ARGS)
    _add_diagnostic(request, "device log", device.log_tail)
    try:
        device.start()
        yield device
    finally:
        device.stop()
        shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.fixture
def start_device(netns, request, tmp_path):
    """A function that starts the device like `device` but with extra command-line arguments (e.g.
    `--config FILE`) and returns it once it answers; every one is stopped afterwards."""
    binary = Path(os.environ.get("INTERCOM_BIN", DEFAULT_BINARY))
    binary = binary if binary.is_absolute() else REPO_ROOT / binary
    started = []

    def start(*extra_args):
        socket_dir = Path(tempfile.mkdtemp(prefix="intercom-e2e-", dir="/tmp"))
        workdir = tmp_path / f"device-{len(started) + 1}"
        workdir.mkdir()
        started.append((Device(binary, workdir, socket_dir, (*DEFAULT_DEVICE_ARGS, *extra_args)), socket_dir))
        _add_diagnostic(request, f"device {len(started)} log", started[-1][0].log_tail)
        started[-1][0].start()
        return started[-1][0]

    try:
        yield start
    finally:
        for device, socket_dir in started:
            device.stop()
            shutil.rmtree(socket_dir, ignore_errors=True)


# --- the browser ---------------------------------------------------------------------------------------


def _console_log(driver):
    entries = driver.get_log("browser")
    if not entries:
        return "(no console messages)"
    lines = []
    for entry in entries:
        stamp = time.strftime("%H:%M:%S", time.localtime(entry["timestamp"] / 1000))
        lines.append(f"{stamp}.{entry['timestamp'] % 1000:03d} {entry['level']:<7} {entry['message']}")
    return "\n".join(lines)


def _page_summary(driver):
    return json.dumps(driver.execute_script(
        "return {url: location.href, state: document.body && document.body.dataset.state,"
        " intercomTest: window.intercomTest || null};"), indent=2)


def _start_browser(request, log_path, label="", extra_args=()):
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} not found: install {package} (scripts/deps.sh test does)")

    options = Options()
    options.binary_location = CHROMIUM
    for argument in (*CHROMIUM_ARGS, *extra_args):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=str(log_path))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(10)
    _add_diagnostic(request, f"browser{label} page", lambda: _page_summary(driver))
    _add_diagnostic(request, f"browser{label} console", lambda: _console_log(driver))
    return driver


@pytest.fixture
def browser(netns, request, tmp_path):
    """Headless Chromium (Debian's chromium + chromium-driver) with a fake camera and microphone."""
    driver = _start_browser(request, tmp_path / "chromedriver.log")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def more_browsers(netns, request, tmp_path):
    """A function that starts another headless Chromium like `browser` (for browser-to-browser calls), with
    extra command-line switches if given; every one is quit at teardown."""
    drivers = []

    def start(*extra_args):
        label = f" #{len(drivers) + 2}"
        drivers.append(_start_browser(request, tmp_path / f"chromedriver-{len(drivers) + 2}.log", label, extra_args))
        return drivers[-1]

    try:
        yield start
    finally:
        for driver in drivers:
            driver.quit()
