#!/usr/bin/env python3
"""`make bench`: how fast from button to talking, each figure beside a baseline measured in the same run.

Runs the release device binary and headless Chromium in a network namespace with a veth pair, exactly like the
end-to-end tests (it reuses suites/e2e/conftest.py's helpers), prints a table and writes it to
bench/results/latest.md and latest.json. The machine may be busy with other work: the ratios to the in-run
baselines are what to compare between runs; the load average is recorded beside them.

    .venv/bin/python bench/run.py [--quick] [--out DIR]
    .venv/bin/python bench/run.py --only call-cycles [--cycles 40]   # the memory growth per call alone
    .venv/bin/python bench/run.py --only glass [--calls 3] [--device-arg=ARG ...]   # glass-to-glass alone
    .venv/bin/python bench/run.py --only lost [--kills 10]   # a killed caller's call → "lost", and a data link's
    .venv/bin/python bench/run.py --only ring [--presses 10]   # press → ring notification, and how long the loop was held
    .venv/bin/python bench/run.py --only nat [--calls 3]   # the NAT rows alone: join and glass-to-glass through TURN (bench/nat.py; debug binary)
"""

import argparse
import json
import os
import platform
import queue
import random
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "suites" / "e2e"))

import websocket  # noqa: E402  (websocket-client, installed with selenium)
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

import conftest  # noqa: E402  (the e2e harness: namespace set-up, Device)
from link_lost import bench_link_lost  # noqa: E402

sys.modules.setdefault("run", sys.modules[__name__])  # bench/nat.py's `import run` is this module, not a copy

# BENCH_BINARY: another build of the device (e.g. .build/debug/intercom to compare two commits without a release build).
BINARY = Path(os.environ.get("BENCH_BINARY", REPO_ROOT / ".build" / "release" / "intercom"))
PAGE_HOOKS = (REPO_ROOT / "bench" / "page-hooks.js").read_text()
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class BenchError(Exception):
    pass


def wait_for(fn, timeout, what, interval=0.005):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:g} s waiting for {what} (last: {value!r})")
        time.sleep(interval)


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values):
    return {"median": statistics.median(values) if values else None, "p95": percentile(values, 95),
            "n": len(values)}


# --- namespace, device, browser ----------------------------------------------------------------------------


class Namespace:
    """conftest.netns as a context manager: a namespace with a veth pair, entered by this process."""

    def __enter__(self):
        if os.geteuid() != 0:
            raise BenchError("the benchmarks need root: they create a network namespace like the e2e tests")
        conftest._remove_stale_namespaces()
        self.name = f"{conftest.NAMESPACE_PREFIX}{os.getpid()}"
        conftest._ip("netns", "add", self.name)
        self.original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        n = self.name
        conftest._ip("-n", n, "link", "set", "lo", "up")
        conftest._ip("-n", n, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        conftest._ip("-n", n, "addr", "add", "10.200.0.1/24", "dev", "v0")
        conftest._ip("-n", n, "addr", "add", "10.200.0.2/24", "dev", "v1")
        conftest._ip("-n", n, "link", "set", "v0", "up")
        conftest._ip("-n", n, "link", "set", "v1", "up")
        target = os.open(f"/run/netns/{n}", os.O_RDONLY)
        try:
            conftest._setns(target)
        finally:
            os.close(target)
        return self

    def __exit__(self, *exc):
        conftest._setns(self.original)
        os.close(self.original)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class BenchDevice(conftest.Device):
    """The e2e Device with extra `run` options and an event reader that timestamps each event on arrival."""

    def __init__(self, scratch, extra=()):
        workdir = Path(tempfile.mkdtemp(prefix="dev-", dir=scratch))
        super().__init__(BINARY, workdir, workdir)
        self.extra = list(extra)
        self.events_queue = queue.Queue()

    @property
    def command(self):
        return super().command + self.extra

    def start(self):
        super().start()
        stream = self.events(timeout=None)
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        try:
            for event in stream:
                self.events_queue.put((time.monotonic(), event))
        except (OSError, ValueError):
            pass

    def stop(self):
        # Wake the event reader first: closing its file while it blocks in a read would deadlock.
        for connection in self._event_connections:
            if isinstance(connection, socket.socket):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        super().stop()

    def drain(self):
        while not self.events_queue.empty():
            self.events_queue.get_nowait()

    def next_event(self, name, timeout=10.0, match=lambda e: True):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"no {name!r} event within {timeout:g} s\n{self.log_tail(30)}")
            try:
                at, event = self.events_queue.get(timeout=left)
            except queue.Empty:
                continue
            if event.get("event") == name and match(event):
                return at, event

    def ring(self):
        """Press the doorbell; the whole join link (with its secret) once the room's ID is registered."""
        self.drain()
        assert self.control({"cmd": "press", "button": "doorbell"}) == {"ok": True}
        self.next_event("room-reachable", match=lambda e: e.get("door", "room") == "room")
        answer = self.control({"cmd": "link"})
        if not answer.get("ok"):
            raise BenchError(f"`link` failed: {answer}")
        return answer["link"]

    def rss_kib(self):
        return rss_kib(self.process.pid)

    def cpu_seconds(self):
        return cpu_seconds(self.process.pid)


def rss_kib(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE // 1024


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


class Browser:
    """Headless Chromium like the e2e fixture's, with bench/page-hooks.js in every page it opens."""

    def __init__(self, scratch, label, extra_args=(), **config):
        options = Options()
        options.binary_location = conftest.CHROMIUM
        for argument in (*conftest.CHROMIUM_ARGS, *extra_args):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(conftest.CHROMEDRIVER, log_output=str(Path(scratch) / f"chromedriver-{label}.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(20)
        self.script_id = None
        self.configure(**config)

    def configure(self, **config):
        if self.script_id is not None:
            self.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": self.script_id})
        source = f"window.__benchConfig = {json.dumps(config)};\n{PAGE_HOOKS}"
        self.script_id = self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                                     {"source": source})["identifier"]

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def state(self):
        return self.js("return document.body ? document.body.dataset.state : null;")

    def bench(self):
        return self.js("return window.__bench ? {firstFrameAt: __bench.firstFrameAt, joinAt: __bench.joinAt,"
                       " stamps: __bench.stamps.length, rejected: __bench.stampsRejected} : null;")

    def wait_state(self, wanted, timeout=20):
        def reached():
            state = self.state()
            if state == "error":
                raise BenchError(f"page went to 'error' waiting for {wanted!r}: {self.js('return window.intercomTest')}")
            return state == wanted
        wait_for(reached, timeout, f"page state {wanted!r}", interval=0.02)

    def wait_first_frame(self, timeout=20):
        return wait_for(lambda: self.js("return window.__bench && __bench.firstFrameAt"), timeout,
                        "the first remote picture", interval=0.02)

    def video_stats(self):
        """The call's getStats() video counters (bench/page-hooks.js `videoStats`)."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            " __bench.videoStats().then(done, (e) => done({error: String(e)}));")

    def hang_up(self):
        self.js("const b = document.getElementById('hangup'); if (b) b.click();")

    def quit(self):
        self.driver.quit()


# --- figures -------------------------------------------------------------------------------------------------


class Results:
    def __init__(self):
        self.rows = []
        self.notes = []
        self.breakdown = {}
        self.cpu_threads = {}

    def add(self, key, figure, unit, values, baseline_name, baseline_values, note=""):
        row = {"key": key, "figure": figure, "unit": unit, **summary(values),
               "baseline": baseline_name, "baseline_median": None, "baseline_p95": None, "baseline_n": 0,
               "ratio": None, "note": note, "values": list(values), "baseline_values": list(baseline_values)}
        if baseline_values:
            b = summary(baseline_values)
            row.update(baseline_median=b["median"], baseline_p95=b["p95"], baseline_n=b["n"])
            if b["median"] and row["median"] is not None:
                row["ratio"] = row["median"] / b["median"]
        self.rows.append(row)
        print(format_row(row), flush=True)


def fmt(value, unit):
    if value is None:
        return "–"
    if unit == "MiB":
        return f"{value:.1f}"
    if unit == "%":
        return f"{value:.1f}"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def format_row(row):
    u = row["unit"]
    ratio = f"{row['ratio']:.2f}×" if row["ratio"] is not None else "–"
    return (f"{row['figure']}: median {fmt(row['median'], u)} {u}, p95 {fmt(row['p95'], u)} (n={row['n']}) | "
            f"baseline {row['baseline']}: {fmt(row['baseline_median'], u)} / {fmt(row['baseline_p95'], u)} "
            f"(n={row['baseline_n']}) | ratio {ratio}")


def random_id(prefix):
    return prefix + "".join(random.choices(string.ascii_lowercase + string.digits, k=10))


def websocket_open_millis(port):
    """A plain WebSocket client registering a fresh ID on the built-in server: connect to OPEN, in ms."""
    url = f"ws://127.0.0.1:{port}/peerjs?key=peerjs&id={random_id('bench')}&token={random_id('t')}&version=1.5.4"
    start = time.monotonic()
    ws = websocket.create_connection(url, timeout=5)
    try:
        while True:
            message = json.loads(ws.recv())
            if message.get("type") == "OPEN":
                return (time.monotonic() - start) * 1000
            if message.get("type") in ("ERROR", "ID-TAKEN"):
                raise BenchError(f"the server refused a plain registration: {message}")
    finally:
        ws.close()


def bench_press(results, device, repetitions):
    """Press → room on screen and press → reachable, interleaved with their baselines."""
    room_screen, idle_screen, reachable, plain_ws = [], [], [], []
    for _ in range(repetitions):
        device.drain()
        pressed = time.monotonic()
        assert device.control({"cmd": "press", "button": "doorbell"}) == {"ok": True}
        _, screen = device.next_event("screen", match=lambda e: e["screen"] == "room")
        at, _ = device.next_event("room-reachable", match=lambda e: e.get("door", "room") == "room")
        room_screen.append(screen["millis"])
        reachable.append((at - pressed) * 1000)
        assert device.control({"cmd": "hangup"}) == {"ok": True}
        _, screen = device.next_event("screen", match=lambda e: e["screen"] == "idle")
        idle_screen.append(screen["millis"])
        plain_ws.append(websocket_open_millis(device.port))
    results.add("press_to_room_screen", "Press → room on screen", "ms", room_screen,
                "hang-up → idle screen (same path: state machine, render, PNG sink)", idle_screen,
                "device-measured: event handled → frame handed to the snapshot sink (`screen` event `millis`)")
    results.add("press_to_reachable", "Press → reachable (OPEN)", "ms", reachable,
                "plain WebSocket client registering an ID (connect → OPEN)", plain_ws,
                "bench-measured: press request sent → `room-reachable` event read")


def device_cycle(device, browser, mode, rss, marks=None):
    """One ring-join-hang-up cycle; returns join → first frame in ms for `mode` 'click' or 'link' (and appends
    the page's join steps to `marks` in 'link' mode)."""
    link = device.ring()
    if mode == "link":
        browser.configure(autoJoin=True)
        browser.driver.get(link)
        first = browser.wait_first_frame()
        millis = first
        if marks is not None:
            marks.append(browser.js("return __bench.loadMarks();"))
    else:
        browser.configure()
        browser.driver.get(link)
        browser.wait_state("ready")
        browser.js("__bench.join();")
        first = browser.wait_first_frame()
        millis = first - browser.js("return __bench.joinAt;")
    device.next_event("call-connected", timeout=20)
    # Talking: both sides decode the other's video before anyone hangs up.
    browser.wait_state("in-call")
    wait_for(lambda: (c := device.state()["call"]) and c["videoFramesDecoded"] > 0, 10,
             "the device decoding the page's video", interval=0.05)
    if rss is not None:
        rss.append(device.rss_kib())
    hang_up_from_page(device, browser)
    wait_for(lambda: device.state()["phase"] == "idle", 10, "the device back to idle")
    return millis


MISSED_HANGUPS = []


def bench_lost(results, scratch, device, kills, baseline_hangups):
    """A caller whose whole Chromium is SIGKILLed mid-call: the door's silence from the peer's last packet to
    the call's end as "lost" (lastCall.lostAfterSilenceMillis), and from the kill; baseline: a page that hangs
    up properly, click → the door's end. Each kill needs a fresh browser."""
    from test_liveness import kill_browser  # the e2e suite's kill: Chromium and all it started

    silence, after_kill, hangups = [], [], []
    for index in range(kills + baseline_hangups):
        browser = Browser(scratch, f"lost-{index}", autoJoin=True)
        try:
            browser.driver.get(device.ring())
            browser.wait_first_frame()
            browser.wait_state("in-call")
            wait_for(lambda: (c := device.state()["call"]) and c["videoFramesDecoded"] > 0, 10,
                     "the device decoding the page's video", interval=0.05)
            if index < kills:
                killed_at = kill_browser(browser.driver)
                device.next_event("call-ended", timeout=30)
                last = device.state()["lastCall"]
                if last["endedBy"] != "lost":
                    raise BenchError(f"a killed caller's call ended as {last['endedBy']!r}, not lost: {last}")
                silence.append(last["lostAfterSilenceMillis"])
                after_kill.append(last["endedAt"] - killed_at)
            else:
                browser.hang_up()
                device.next_event("call-ended", timeout=10)
                hangup_at = browser.js("return window.intercomTest.hangupAt;")
                hangups.append(device.state()["lastCall"]["endedAt"] - hangup_at)
            wait_for(lambda: device.state()["phase"] == "idle", 10, "the device back to idle")
        finally:
            try:
                browser.quit()
            except Exception:  # noqa: BLE001 — a killed browser's driver cannot quit it; only reap chromedriver
                browser.driver.service.stop()
    results.add("lost-silence", "killed caller: last packet → call lost", "ms", silence,
                "page hang-up click → call ended", hangups)
    results.add("lost-kill", "killed caller: SIGKILL → call lost", "ms", after_kill,
                "page hang-up click → call ended", hangups)


def hang_up_from_page(device, browser):
    """The visitor ends the call; should the device not notice within 10 s, the run notes it and hangs up."""
    browser.hang_up()
    try:
        device.next_event("call-ended", timeout=10)
    except BenchError:
        MISSED_HANGUPS.append(time.strftime("%H:%M:%S"))
        print("  ! the device did not notice the page's hang-up within 10 s; hanging up from the device", flush=True)
        device.control({"cmd": "hangup"})
        device.next_event("call-ended", timeout=10)


def browser_cycle(host, guest, base, mode, marks=None):
    """The baseline cycle: `host` creates a room in its page (auto-answers), `guest` joins it; both load the page
    from `base`, the baseline's own deployment (bench/baseline_site.py), not from the door. In 'link' mode the
    guest's join steps are appended to `marks`."""
    host.configure(autoAnswer=True)
    host.driver.get(base)
    host.wait_state("ready")
    host.js("document.getElementById('create').click();")
    host.wait_state("hosting")
    link = host.js("return document.getElementById('room-link').href;")
    if mode == "link":
        guest.configure(autoJoin=True)
        guest.driver.get(link)
        millis = guest.wait_first_frame()
        if marks is not None:
            marks.append(guest.js("return __bench.loadMarks();"))
    else:
        guest.configure()
        guest.driver.get(link)
        guest.wait_state("ready")
        guest.js("__bench.join();")
        millis = guest.wait_first_frame() - guest.js("return __bench.joinAt;")
    guest.wait_state("in-call")
    guest.hang_up()
    wait_for(lambda: host.state() != "in-call", 10, "the host page to notice the hang-up", interval=0.05)
    return millis


def idle_memory(device):
    """The device's idle RSS (five readings) and its owners, before any room or call."""
    idle_rss = []
    for _ in range(5):
        idle_rss.append(device.rss_kib())
        time.sleep(0.2)
    return idle_rss, {"idle, before the first room and call": memory_owners(device.process.pid)}


def bench_join_and_memory(results, device, browser, host, cycles, baseline_cycles, idle, baseline_url):
    """Join → first frame (device vs two pages on the deployment at `baseline_url`), and the device's memory
    over `cycles` calls."""
    idle_rss, owners = idle
    joins = {"click": [], "link": []}
    in_call_rss, after_cycle_rss = [], []
    for index in range(cycles):
        mode = "click" if index % 2 == 0 else "link"
        joins[mode].append(device_cycle(device, browser, mode, in_call_rss))
        after_cycle_rss.append(device.rss_kib())
        if index == 0:
            time.sleep(1.5)  # the door trims the heap a second after a call
            owners["idle after the first call"] = memory_owners(device.process.pid)
        if (index + 1) % 10 == 0:
            print(f"  … {index + 1} of {cycles} call cycles", flush=True)
    baseline = {"click": [], "link": []}
    for index in range(baseline_cycles):
        mode = "click" if index % 2 == 0 else "link"
        baseline[mode].append(browser_cycle(host, browser, baseline_url, mode))

    results.add("join_click_to_first_frame", "Join click → first remote frame (page loaded)", "ms", joins["click"],
                "page calling another page through the same kind of server", baseline["click"],
                "Chromium: #join click → first remote picture presented (requestVideoFrameCallback); baseline: "
                "two pages of the exported site signalling through `intercom signaling-server` on the same host "
                "(bench/baseline_site.py)")
    results.add("link_open_to_first_frame", "Open link → first remote frame", "ms", joins["link"],
                "page calling another page through the same kind of server", baseline["link"],
                "navigation start → first remote picture; #join clicked the moment the page is ready")

    mib = lambda values: [v / 1024 for v in values]  # noqa: E731
    return {"idle": mib(idle_rss), "in_call": mib(in_call_rss), "after_cycles": mib(after_cycle_rss),
            "growth_per_100_cycles_mib": growth_per_100_cycles_mib(after_cycle_rss), "cycles": cycles,
            "owners": owners | {f"idle after {cycles} calls": memory_owners(device.process.pid)}}


def bench_join_only(scratch, browser, host, cycles, baseline_url):
    """`--only join`: join → first frame with the warm pipeline, without it (`--cold-join`) and between two
    pages (on the deployment at `baseline_url`), interleaved so that each sees the same load."""
    devices = {"warm": BenchDevice(scratch, ["--verbose"]), "cold": BenchDevice(scratch, ["--cold-join", "--verbose"])}
    for device in devices.values():
        device.start()
    try:
        joins = {(name, mode): [] for name in (*devices, "pages") for mode in ("click", "link")}
        marks = {name: [] for name in (*devices, "pages")}
        for index in range(cycles):
            mode = "click" if index % 2 == 0 else "link"
            for name, device in devices.items():
                joins[(name, mode)].append(device_cycle(device, browser, mode, None, marks[name]))
            joins[("pages", mode)].append(browser_cycle(host, browser, baseline_url, mode, marks["pages"]))
        results = Results()
        for mode, figure in (("click", "Join click → first remote frame"), ("link", "Open link → first remote frame")):
            results.add(f"join_{mode}_warm", f"{figure}, warm pipeline", "ms", joins[("warm", mode)],
                        "page calling another page", joins[("pages", mode)])
            results.add(f"join_{mode}_cold", f"{figure}, --cold-join", "ms", joins[("cold", mode)],
                        "page calling another page", joins[("pages", mode)])
        print("first call of each process (click): " + ", ".join(
            f"{name} {joins[(name, 'click')][0]:.0f} ms" for name in (*devices, "pages")), flush=True)
        for name, device in devices.items():
            print_join_trace(name, device.log_path)
        print_link_breakdown(marks)
    finally:
        for device in devices.values():
            device.stop()


def print_link_breakdown(marks):
    """Open link → first frame step by step (bench/page-hooks.js `loadMarks`): the median over the calls of each
    step's time from the navigation start, and of the time since the step before, for each side."""
    names = list(marks)
    steps = []
    for name in names:
        for sample in marks[name]:
            for step, value in sample.items():
                if step != "modules" and value is not None and step not in steps:
                    steps.append(step)
    medians = {name: {step: statistics.median(v) for step in steps
                      if (v := [s[step] for s in marks[name] if s.get(step) is not None])} for name in names}
    steps.sort(key=lambda step: statistics.median([m[step] for m in medians.values() if step in m]))
    print("open link → first frame, by step (median ms from the navigation start; + since the step before):")
    print("  " + f"{'step':28}" + "".join(f"{name:>22}" for name in names))
    last = {name: 0.0 for name in names}
    for step in steps:
        cells = []
        for name in names:
            value = medians[name].get(step)
            cells.append(f"{'–':>22}" if value is None else f"{value:9.1f} (+{value - last[name]:6.1f})    ")
            if value is not None:
                last[name] = value
        print(f"  {step:28}" + "".join(cells))
    modules = {name: statistics.median([s.get("modules") or 0 for s in marks[name]]) for name in names if marks[name]}
    print("  modules loaded: " + ", ".join(f"{name} {count:.0f}" for name, count in modules.items()), flush=True)


def bench_ring_only(scratch, presses):
    """`--only ring`: press → the ring's webhook request read by a receiver on loopback, for a door with the warm
    pipeline and the ring picture (the default), the same with `notify.picture: false`, and the baseline, a door
    that starts no pipeline at the press (`--cold-join`: no picture, nothing to wait for). Beside each, the
    longest a control-socket `state` request waited for its reply within 1.5 s of the press: how long the loop
    was held."""
    from receivers import Receiver  # noqa: PLC0415  (suites/e2e/receivers.py)

    receiver = Receiver()
    configs = {}
    for name, picture in (("picture", True), ("no-picture", False), ("cold", True)):
        path = Path(scratch) / f"ring-{name}.yaml"
        path.write_text(f"notify:\n  picture: {'true' if picture else 'false'}\n  targets:\n"
                        f"    - type: webhook\n      url: \"{receiver.url}/ring-{name}\"\n")
        configs[name] = path
    devices = {name: BenchDevice(scratch, ["--config", str(path), "--verbose", *(["--cold-join"] if name == "cold" else [])])
               for name, path in configs.items()}
    for device in devices.values():
        device.start()
    try:
        notified = {name: [] for name in devices}
        held = {name: [] for name in devices}
        for _ in range(presses):
            for name, device in devices.items():
                before = len(receiver.accepted)
                device.drain()
                pressed = time.time()
                assert device.control({"cmd": "press", "button": "doorbell"}) == {"ok": True}
                longest = 0.0
                while time.time() - pressed < 1.5:
                    asked = time.monotonic()
                    device.control({"cmd": "state"})
                    longest = max(longest, time.monotonic() - asked)
                    time.sleep(0.005)
                wait_for(lambda: len(receiver.accepted) > before, 10, f"the {name} door's ring at the webhook")
                ring = next(r for r in receiver.accepted[before:] if r.path == f"/ring-{name}")
                notified[name].append((ring.at - pressed) * 1000)
                held[name].append(longest * 1000)
                assert device.control({"cmd": "hangup"}) == {"ok": True}
                device.next_event("screen", match=lambda e: e["screen"] == "idle")
                wait_for(lambda d=device: d.state()["phase"] == "idle", 10, "the device back to idle")
        results = Results()
        results.add("ring_webhook_picture", "Press → ring at the webhook, warm pipeline + picture", "ms",
                    notified["picture"], "a door that starts nothing at the press (--cold-join)", notified["cold"])
        results.add("ring_webhook_no_picture", "Press → ring at the webhook, warm pipeline, notify.picture false",
                    "ms", notified["no-picture"], "a door that starts nothing at the press (--cold-join)",
                    notified["cold"])
        results.add("ring_loop_held", "Longest control-socket reply within 1.5 s of the press, warm pipeline", "ms",
                    held["picture"] + held["no-picture"], "the same, --cold-join", held["cold"])
        for name, device in devices.items():
            starts = [float(line.split("warm pipeline started in ")[1].split(" ms")[0])
                      for line in Path(device.log_path).read_text(errors="replace").splitlines()
                      if "warm pipeline started in " in line]
            if starts:
                print(f"{name} door: warm pipeline started in median {statistics.median(starts):.0f} ms, "
                      f"max {max(starts):.0f} ms ({len(starts)} rooms)", flush=True)
    finally:
        for device in devices.values():
            device.stop()
        receiver.close()


def print_join_trace(name, log_path):
    """The door's `join trace` debug lines (`JoinTrace`): median milliseconds from the offer to each step."""
    steps = {}
    for line in Path(log_path).read_text(errors="replace").splitlines():
        if "join trace" not in line:
            continue
        for part in line.split("join trace ", 1)[1].partition(": ")[2].split(", "):
            step, _, millis = part.rpartition(" ")
            try:
                steps.setdefault(step, []).append(float(millis))
            except ValueError:
                pass
    if not steps:
        print(f"{name}: no join trace in the device log", flush=True)
        return
    print(f"{name} door, offer → each step (median / max ms over {max(len(v) for v in steps.values())} calls): "
          + ", ".join(f"{step} {statistics.median(v):.1f} / {max(v):.1f}" for step, v in steps.items()), flush=True)


def growth_per_100_cycles_mib(after_cycle_rss):
    """Least-squares slope of the idle RSS (KiB) after each cycle, the first 5 cycles being warm-up."""
    tail = after_cycle_rss[5:]
    if len(tail) < 3:
        return 0.0
    xs = list(range(len(tail)))
    mean_x, mean_y = statistics.mean(xs), statistics.mean(tail)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, tail)) / sum((x - mean_x) ** 2 for x in xs)
    return slope * 100 / 1024


def memory_owners(pid, top=12):
    """The resident set by owner from /proc/PID/smaps, in MiB: anonymous memory (the malloc heap and arenas,
    thread stacks, GStreamer's buffers) apart from each mapped file (libraries and plugins: clean pages the
    kernel can drop and reread), the largest `top` files by name and the rest summed."""
    owners, anon, files = {}, 0, 0
    current = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if not head:
                continue
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                path = head[5] if len(head) >= 6 else ""
                current = path if path.startswith("/") else "anonymous " + (path or "(heap arenas, stacks)")
            elif head[0] == "Rss:" and current is not None:
                kib = int(head[1])
                owners[current] = owners.get(current, 0) + kib
                if current.startswith("/"):
                    files += kib
                else:
                    anon += kib
    ranked = sorted(owners.items(), key=lambda kv: -kv[1])
    table = {(Path(k).name if k.startswith("/") else k): v / 1024 for k, v in ranked[:top]}
    table["other files and mappings"] = sum(v for _, v in ranked[top:]) / 1024
    return {"anonymous_mib": anon / 1024, "files_mib": files / 1024, "owners": table}


def print_memory_owners(title, owners):
    print(f"{title}: anonymous {owners['anonymous_mib']:.1f} MiB, files {owners['files_mib']:.1f} MiB; "
          + ", ".join(f"{k} {v:.1f}" for k, v in owners["owners"].items()), flush=True)


def bench_call_cycles_only(scratch, cycles):
    """`--only call-cycles`: the memory part of the join benchmark alone (ring, join from the page, talk,
    hang up from the page; the device's idle RSS after each call), printed, with no results files written."""
    browser = Browser(scratch, "guest")
    device = BenchDevice(scratch)
    device.start()
    try:
        after = []
        print_memory_owners("idle, before the first call", memory_owners(device.process.pid))
        for index in range(cycles):
            device_cycle(device, browser, "click" if index % 2 == 0 else "link", None)
            after.append(device.rss_kib())
            print(f"  cycle {index + 1:3d}: idle RSS {after[-1] / 1024:.1f} MiB", flush=True)
            if index == 0:
                time.sleep(1.5)  # the door trims the heap a second after a call
                print_memory_owners("idle after the first call", memory_owners(device.process.pid))
        print_memory_owners(f"idle after {cycles} calls", memory_owners(device.process.pid))
    finally:
        device.stop()
        browser.quit()
    print(f"call cycles: {cycles}; idle RSS after the first {after[0] / 1024:.1f} MiB, after the last "
          f"{after[-1] / 1024:.1f} MiB; growth {growth_per_100_cycles_mib(after):+.1f} MiB per 100 cycles "
          f"(slope over cycles 6–{cycles}); missed page hang-ups {len(MISSED_HANGUPS)}", flush=True)


def delta(before, after, name):
    if not before or not after or name not in before or name not in after:
        return None
    return after[name] - before[name]


def per(numerator, denominator, scale=1000.0):
    if numerator is None or not denominator:
        return None
    return numerator / denominator * scale


def receive_breakdown(before, after):
    """One direction of a call, from the receiving page's inbound-rtp video counters (and the sending page's
    outbound-rtp when that is a page): per-frame milliseconds over the window between two readings."""
    i0, i1 = before["inbound"], after["inbound"]
    emitted = delta(i0, i1, "jitterBufferEmittedCount")
    decoded = delta(i0, i1, "framesDecoded")
    inter = delta(i0, i1, "totalInterFrameDelay")
    squared = delta(i0, i1, "totalSquaredInterFrameDelay")
    row = {
        "frames decoded": decoded,
        "jitter buffer delay (ms/frame)": per(delta(i0, i1, "jitterBufferDelay"), emitted),
        "jitter buffer target (ms/frame)": per(delta(i0, i1, "jitterBufferTargetDelay"), emitted),
        "jitter buffer minimum (ms/frame)": per(delta(i0, i1, "jitterBufferMinimumDelay"), emitted),
        "assembly (ms/frame of several packets)": per(delta(i0, i1, "totalAssemblyTime"),
                                                      delta(i0, i1, "framesAssembledFromMultiplePackets")),
        "decode (ms/frame)": per(delta(i0, i1, "totalDecodeTime"), decoded),
        "first packet → decoded (ms/frame)": per(delta(i0, i1, "totalProcessingDelay"), decoded),
        "inter-frame delay mean (ms)": per(inter, decoded),
        "inter-frame delay σ (ms)": None,
        "RTP arrival jitter (ms)": i1.get("jitter", 0) * 1000 if i1 else None,
        "frames dropped": delta(i0, i1, "framesDropped"),
        "freezes": delta(i0, i1, "freezeCount"),
        "packets lost": delta(i0, i1, "packetsLost"),
        "NACK / PLI": f"{delta(i0, i1, 'nackCount')} / {delta(i0, i1, 'pliCount')}",
        "size, fps": f"{i1.get('frameWidth')}×{i1.get('frameHeight')} {i1.get('framesPerSecond')}" if i1 else None,
        "round trip (ms)": after["roundTripTime"] * 1000 if after.get("roundTripTime") is not None else None,
    }
    if inter is not None and squared is not None and decoded:
        mean = inter / decoded
        row["inter-frame delay σ (ms)"] = max(0.0, squared / decoded - mean * mean) ** 0.5 * 1000
    return row


def send_breakdown(before, after):
    """The sending page's outbound-rtp video counters: encode time and the pacer's per-packet delay."""
    o0, o1 = before["outbound"], after["outbound"]
    return {
        "encode (ms/frame)": per(delta(o0, o1, "totalEncodeTime"), delta(o0, o1, "framesEncoded")),
        "pacer send delay (ms/packet)": per(delta(o0, o1, "totalPacketSendDelay"), delta(o0, o1, "packetsSent")),
        "packets per frame": per(delta(o0, o1, "packetsSent"), delta(o0, o1, "framesSent"), 1.0),
    }


def average_rows(rows):
    """Field by field mean of numeric breakdown rows (the last text value for the others)."""
    out = {}
    for row in rows:
        for key, value in row.items():
            out.setdefault(key, []).append(value)
    result = {}
    for key, values in out.items():
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        result[key] = statistics.fmean(numbers) if numbers else (values[-1] if values else None)
    return result


def parse_latency_trace(path):
    """GStreamer's latency tracer log (flags=pipeline+element): mean and p95 milliseconds per element, and the
    source → sink figure per path."""
    import re
    element, pipeline = {}, {}
    pattern_element = re.compile(r"element-latency, .*?element=\(string\)([^,]+), src=\(string\)([^,]+), "
                                 r"time=\(guint64\)(\d+)")
    pattern_path = re.compile(r"latency, src-element-id=.*?src-element=\(string\)([^,]+), .*?"
                              r"sink-element=\(string\)([^,]+), .*?time=\(guint64\)(\d+)")
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return {}
    for line in text.splitlines():
        m = pattern_element.search(line)
        if m:
            element.setdefault(m.group(1), []).append(int(m.group(3)) / 1e6)
            continue
        m = pattern_path.search(line)
        if m:
            pipeline.setdefault(f"{m.group(1)} → {m.group(2)}", []).append(int(m.group(3)) / 1e6)
    def table(d):
        return {k: {"mean": statistics.fmean(v), "p95": percentile(v, 95), "n": len(v)} for k, v in sorted(d.items())}
    return {"elements": table(element), "paths": table(pipeline)}


def breakdown_markdown(breakdown):
    """Side-by-side tables: one per part, one column per direction."""
    lines = []
    for part, columns in breakdown.items():
        names = list(columns)
        lines += ["", f"**{part}**", "", "| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        keys = []
        for column in columns.values():
            keys += [k for k in column if k not in keys]
        for key in keys:
            cells = []
            for name in names:
                value = columns[name].get(key)
                cells.append("–" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value))
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def bench_glass_to_glass(results, device, browser, host, seconds, baseline_url, calls=3):
    """Device ↔ page stamps both ways, then page ↔ page on the deployment at `baseline_url`, over `calls` calls
    of `seconds` each after a warm-up (a call's receive delay settles differently each time, so one call is not
    enough)."""
    browser.configure(autoJoin=True, stampCamera=True, readStamps=True)
    host.configure(autoAnswer=True, stampCamera=True, readStamps=True)
    base = baseline_url
    to_page, to_device, page_to_page = [], [], []
    door_receive, page_receive, page_send = [], [], []
    for _ in range(calls):
        browser.driver.get(device.ring())
        browser.wait_first_frame()
        device.next_event("call-connected", timeout=20)
        time.sleep(2)  # warm-up: the first pictures come out of a fresh jitter buffer and encoder
        browser.js("__bench.stamps.length = 0;")
        device.drain()
        before = browser.video_stats()
        time.sleep(seconds)
        read = browser.js("return __bench.stamps.slice();")
        door_receive.append(receive_breakdown(before, browser.video_stats()))
        read_on_device = []
        while not device.events_queue.empty():
            _, event = device.events_queue.get_nowait()
            if event.get("event") == "clock-stamp":
                read_on_device.append(event["millis"])
        rejected = browser.js("return __bench.stampsRejected;")
        hang_up_from_page(device, browser)
        if len(read) < 10 or len(read_on_device) < 10:
            raise BenchError(f"too few stamps read: {len(read)} in the page ({rejected} pictures rejected), "
                             f"{len(read_on_device)} on the device")
        to_page += read
        to_device += read_on_device

        host.driver.get(base)
        host.wait_state("ready")
        host.js("document.getElementById('create').click();")
        host.wait_state("hosting")
        browser.driver.get(host.js("return document.getElementById('room-link').href;"))
        browser.wait_first_frame()
        wait_for(lambda: host.js("return __bench.firstFrameAt"), 20, "the host page's first remote picture")
        time.sleep(2)
        browser.js("__bench.stamps.length = 0;")
        host.js("__bench.stamps.length = 0;")
        guest_before, host_before = browser.video_stats(), host.video_stats()
        time.sleep(seconds)
        page_to_page += browser.js("return __bench.stamps.slice();") + host.js("return __bench.stamps.slice();")
        guest_after, host_after = browser.video_stats(), host.video_stats()
        page_receive += [receive_breakdown(guest_before, guest_after), receive_breakdown(host_before, host_after)]
        page_send += [send_breakdown(host_before, host_after), send_breakdown(guest_before, guest_after)]
        browser.hang_up()
        wait_for(lambda: host.state() != "in-call", 10, "the host page to notice the hang-up", interval=0.05)

    results.breakdown = {"receiver (Chromium inbound-rtp video)": {
                             "device → page": average_rows(door_receive), "page → page": average_rows(page_receive)},
                         "sender (Chromium outbound-rtp video; the device's own side is the latency tracer)": {
                             "page → page": average_rows(page_send)}}
    print(breakdown_markdown(results.breakdown), flush=True)
    results.add("glass_to_glass_device_to_page", "Glass-to-glass, device → page", "ms", to_page,
                "page → page (both directions)", page_to_page,
                f"{calls} calls; the device stamps its test source's pictures, the page reads each decoded "
                "picture (canvas)")
    results.add("glass_to_glass_page_to_device", "Glass-to-glass, page → device", "ms", to_device,
                "page → page (both directions)", page_to_page,
                f"{calls} calls; the page's camera is a stamped canvas, the device reads each decoded picture (pad "
                "probe on the decoder's output, before the screen branch: the screen adds up to 1/15 s)")


# --- CPU ---------------------------------------------------------------------------------------------------


def cpu_windows(pid, windows, seconds, warmup=2.0):
    """% of one core the process used in each of `windows` windows of `seconds`."""
    time.sleep(warmup)
    values = []
    for _ in range(windows):
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        values.append((cpu_seconds(pid) - c0) / (time.monotonic() - t0) * 100)
    return values


def thread_cpu_seconds(pid):
    """CPU seconds of each live thread of `pid`, keyed by its name with digits dropped (GStreamer names a
    streaming thread after its element's pad, `queue3:src`; threads an element starts inherit that name)."""
    import re
    totals = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            comm = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended
        name = re.sub(r"\d+", "", comm)
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return totals


def thread_cpu_percent(before, after, seconds):
    """% of one core per thread name between two `thread_cpu_seconds` readings, largest first."""
    shares = {name: (after.get(name, 0.0) - before.get(name, 0.0)) / seconds * 100 for name in after}
    return dict(sorted(((k, v) for k, v in shares.items() if v >= 0.05), key=lambda kv: -kv[1]))


def gst_cpu(description, windows, seconds, threads=False):
    process = subprocess.Popen(["gst-launch-1.0", "-q", *description.split()], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        time.sleep(2.0)
        threads0, t0 = thread_cpu_seconds(process.pid), time.monotonic()
        values = cpu_windows(process.pid, windows, seconds, warmup=0)
        shares = thread_cpu_percent(threads0, thread_cpu_seconds(process.pid), time.monotonic() - t0)
        rss = rss_kib(process.pid) / 1024
        if process.poll() is not None:
            raise BenchError(f"gst-launch-1.0 {description} exited: {process.stderr.read().decode()[-800:]}")
        return (values, rss, shares) if threads else (values, rss)
    finally:
        process.terminate()
        process.wait(5)


class DevicePipeline:
    """The call pipeline the device logged (`--verbose`: `pipeline: …`), cut into what gst-launch can run alone:
    its video send branch up to the encoder, the encoder, and the audio send + speaker branches."""

    def __init__(self, log_text):
        line = next((l for l in log_text.splitlines() if "media: pipeline: " in l), None)
        if line is None:
            raise BenchError("the device logged no `pipeline:` line (is --verbose on?)")
        parts = line.split("media: pipeline: ", 1)[1].split("  ")
        self.video = next(p for p in parts if "name=venc" in p)
        self.audio = [p for p in parts if p is not self.video and not p.startswith("webrtcbin")
                      and not p.startswith("camtee.")]
        self.selfview = next((p for p in parts if p.startswith("camtee.")), None)
        before, encoder = self.video.split(" ! queue ", 1)
        self.source_with_tee = before + " ! queue " + encoder.split(" ! ", 1)[0]
        # The source up to the encoder, without the self-view tee (the self-view is the device's own overhead).
        self.source = (before.replace(" ! tee name=camtee", "") + " ! queue " + encoder.split(" ! ", 1)[0])
        encoder = encoder.split(" ! ", 1)[1]
        self.encoder = encoder.split(" ! h264parse", 1)[0]
        self.payloader = "h264parse" + encoder.split(" ! h264parse", 1)[1].rsplit(" ! webrtc.", 1)[0]
        fields = dict(f.split("=", 1) for f in self.encoder.split() if "=" in f)
        self.kbps = int(fields.get("bitrate", "1500"))
        self.gop = int(fields.get("key-int-max", fields.get("gop-size", "60")))

    def openh264(self):
        return (f"openh264enc complexity=low multi-thread=2 rate-control=bitrate gop-size={self.gop} "
                f"bitrate={self.kbps * 1000} ! video/x-h264,profile=constrained-baseline")

    def bare(self, received, screen=None, selfview=False):
        """Send video and audio as the device does, decode a file like the caller's stream into the speaker.
        The device's own branches, one at a time, for the CPU by component: `screen` adds the screen branch
        behind the decoder (the description of CallSessionCallbacks' `addScreenBranch` without its appsink),
        `selfview` the self-view branch behind the camera, each thinned to the 15 pictures a second the
        device's probes let through."""
        source = self.source_with_tee if selfview and self.selfview else self.source
        sends = [source + " ! " + self.encoder + " ! " + self.payloader + " ! fakesink sync=false async=false"]
        if selfview and self.selfview:
            branch = self.selfview.split(" ! appsink", 1)[0].replace(
                " leaky=downstream ! ", " leaky=downstream ! videorate drop-only=true max-rate=15 ! ", 1)
            sends.append(branch + " ! fakesink sync=false async=false")
        sends += [p.replace(" ! webrtc.", " ! fakesink sync=false async=false") for p in self.audio]
        speaker = " ! audioconvert ! audioresample ! speakermix." if any("speakermix" in p for p in self.audio) \
            else " ! fakesink sync=true"
        shown = (f" ! videorate drop-only=true max-rate=15 ! {screen}" if screen else "") + " ! fakesink sync=true"
        return ("  ".join(sends) + f"  filesrc location={received} ! matroskademux name=d "
                f"d.video_0 ! queue ! h264parse ! {h264_decoder()}{shown} "
                f"d.audio_0 ! queue ! opusdec{speaker}")


def h264_decoder():
    """The decoder the device's decodebin picks (Sources/Media/DecoderPreference.swift): openh264dec when
    installed, else avdec_h264."""
    found = subprocess.run(["gst-inspect-1.0", "--exists", "openh264dec"]).returncode == 0
    return "openh264dec" if found else "avdec_h264"


def make_received_stream(path, pipeline, width, height, seconds):
    """What the device decodes in the call, as a file: H.264 (constrained baseline) + Opus, `seconds` long."""
    description = (f"videotestsrc num-buffers={int(seconds * 30)} pattern=ball ! video/x-raw,width={width},"
                   f"height={height},framerate=30/1 ! videoconvert ! {pipeline.encoder} ! h264parse ! queue ! mux. "
                   f"audiotestsrc num-buffers={int(seconds * 50)} samplesperbuffer=960 ! audioconvert ! audioresample "
                   f"! audio/x-raw,rate=48000,channels=1 ! opusenc ! queue ! mux. "
                   f"matroskamux name=mux ! filesink location={path}")
    subprocess.run(["gst-launch-1.0", "-q", *description.split()], check=True, stdout=subprocess.DEVNULL)


def bench_cpu(results, scratch, browser, windows, seconds, warmup):
    config = Path(scratch) / "720p.yaml"
    config.write_text(f"media:\n  resolution: 1280x720\n  framerate: 30\npaths:\n  state: {scratch}/state\n")
    device = BenchDevice(scratch, ["--config", str(config), "--verbose"])
    device.start()
    try:
        browser.configure(autoJoin=True, camera={"width": 1280, "height": 720})
        browser.driver.get(device.ring())
        browser.wait_first_frame()
        device.next_event("call-connected", timeout=20)
        wait_for(lambda: (c := device.state()["call"]) and c["videoWidth"] > 0, 10, "the device decoding video")
        time.sleep(warmup)  # Chromium starts its camera stream small and raises it as its bandwidth estimate grows
        frames0, t0 = device.state()["call"]["videoFramesDecoded"], time.monotonic()
        shown0 = browser.js("return document.getElementById('remote').getVideoPlaybackQuality().totalVideoFrames;")
        threads0, at0 = thread_cpu_seconds(device.process.pid), time.monotonic()
        device_cpu = cpu_windows(device.process.pid, windows, seconds)
        device_threads = thread_cpu_percent(threads0, thread_cpu_seconds(device.process.pid),
                                            time.monotonic() - at0)
        call = device.state()["call"]
        elapsed = time.monotonic() - t0
        received_fps = (call["videoFramesDecoded"] - frames0) / elapsed
        shown_fps = (browser.js("return document.getElementById('remote').getVideoPlaybackQuality()"
                                ".totalVideoFrames;") - shown0) / elapsed
        page_video = browser.js("const v = document.getElementById('remote'); return [v.videoWidth, v.videoHeight];")
        width, height = call["videoWidth"], call["videoHeight"]
        device_rss = device.rss_kib() / 1024
        hang_up_from_page(device, browser)
        pipeline = DevicePipeline(device.log_text())
    finally:
        device.stop()
    browser.driver.get("about:blank")

    stream = Path(scratch) / "received.mkv"
    make_received_stream(stream, pipeline, width, height, windows * seconds + 10)
    bare_cpu, bare_rss, bare_threads = gst_cpu(pipeline.bare(stream), windows, seconds, threads=True)
    results.add("cpu_call_720p", "CPU, device in a 720p30 two-way call", "%", device_cpu,
                "bare gst-launch-1.0: the device's own send branches (source, encoder, Opus, echo canceller) + "
                f"{h264_decoder()}/opusdec of a same-size file", bare_cpu,
                f"% of one core; device sent 1280×720 (the page showed {page_video[0]}×{page_video[1]} at "
                f"{shown_fps:.1f} fps), decoded the page's {width}×{height} at {received_fps:.1f} fps; the "
                "difference is WebRTC (ICE, DTLS/SRTP, RTP), the screen branch and the display")

    results.cpu_threads = {"device in the 720p call": device_threads, "bare gst-launch-1.0": bare_threads}
    print(cpu_threads_markdown(results.cpu_threads), flush=True)
    bench_cpu_components(results, pipeline, stream, windows, seconds, bare_cpu)

    source_cpu, source_rss = gst_cpu(f"{pipeline.source} ! fakesink", windows, seconds)
    for name, encoder in (("x264enc", pipeline.encoder), ("openh264enc", pipeline.openh264())):
        # The queue in front of the encoder starts the thread that runs it (and the encoder's own threads
        # inherit its name): that thread's CPU is the encoder's, read per window beside the source's thread.
        encoder_cpu, source_thread_cpu = [], []
        process = subprocess.Popen(["gst-launch-1.0", "-q", *f"{pipeline.source} ! {encoder} ! fakesink".split()],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(2.0)
            for _ in range(windows):
                before, t0 = thread_cpu_seconds(process.pid), time.monotonic()
                time.sleep(seconds)
                shares = thread_cpu_percent(before, thread_cpu_seconds(process.pid), time.monotonic() - t0)
                encoder_cpu.append(sum(v for k, v in shares.items() if k.startswith("queue")))
                source_thread_cpu.append(sum(v for k, v in shares.items() if not k.startswith("queue")))
        finally:
            process.terminate()
            process.wait(5)
        results.add(f"cpu_encoder_{name}", f"CPU, {name} 1280×720 30 fps (encoder threads)", "%", encoder_cpu,
                    "the source's own threads in the same process (camera → convert → scale)", source_thread_cpu,
                    f"% of one core, gst-launch-1.0, {pipeline.kbps} kbit/s, per-thread CPU from /proc: the threads "
                    f"behind the queue in front of the encoder (the encoder and its workers) against the rest; the "
                    f"source alone in its own process: {statistics.median(source_cpu):.1f} %")
    return {"bare_pipeline_mib": bare_rss, "call_720p_mib": device_rss, "source_only_mib": source_rss}


SCREEN_WIDTH = 800  # the snapshot display the bench's device runs (Device.swift: remoteVideoWidth)
SCREEN_BRANCHES = {
    "videoconvert ! videoscale (the device's)": f"videoconvert ! videoscale ! video/x-raw,format=BGRx,width={SCREEN_WIDTH},"
                                                 "pixel-aspect-ratio=1/1",
    "videoconvertscale (one pass)": f"videoconvertscale ! video/x-raw,format=BGRx,width={SCREEN_WIDTH},pixel-aspect-ratio=1/1",
}


def bench_cpu_components(results, pipeline, stream, windows, seconds, bare_cpu):
    """The door's own branches added to the bare pipeline one at a time (a bench-only switch in gst-launch-1.0,
    the same descriptions as the device's): what each costs beside the same decode and send."""
    for name, branch in SCREEN_BRANCHES.items():
        cpu, _ = gst_cpu(pipeline.bare(stream, screen=branch), windows, seconds)
        results.add(f"cpu_component_screen_{name.split()[0]}", f"CPU, bare pipeline + the screen branch, {name}", "%",
                    cpu, "the bare pipeline", bare_cpu,
                    f"the caller's decoded video converted to BGRx and scaled to {SCREEN_WIDTH} wide, 15 a second")
    if pipeline.selfview:
        cpu, _ = gst_cpu(pipeline.bare(stream, selfview=True), windows, seconds)
        results.add("cpu_component_selfview", "CPU, bare pipeline + the self-view branch", "%", cpu,
                    "the bare pipeline", bare_cpu, "the camera's picture scaled and converted for the screen, 15 a second")


def cpu_threads_markdown(tables):
    lines = []
    for title, shares in tables.items():
        lines.append(f"**{title}** (% of one core per thread name; total {sum(shares.values()):.1f} %): "
                     + ", ".join(f"`{name}` {value:.1f}" for name, value in shares.items()))
        lines.append("")
    return "\n".join(lines)


# --- start-up ------------------------------------------------------------------------------------------------


def bench_startup(results, scratch, repetitions):
    """Process start → READY=1 on a notify socket (servers listening, control socket up, idle screen shown)."""
    values, baseline = [], []
    for _ in range(repetitions):
        notify_path = Path(tempfile.mkdtemp(prefix="n-", dir="/tmp")) / "notify"
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.bind(str(notify_path))
        receiver.settimeout(20)
        os.environ["NOTIFY_SOCKET"] = str(notify_path)
        device = BenchDevice(scratch)
        try:
            started = time.monotonic()
            device.snapshots.mkdir(parents=True, exist_ok=True)
            device._log_file = open(device.log_path, "wb")
            device.process = subprocess.Popen(device.command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                              stdout=device._log_file, stderr=subprocess.STDOUT)
            while b"READY=1" not in receiver.recv(4096):
                pass
            ready = time.monotonic()
            # The idle screen is handed to the snapshot sink before READY=1; its writer thread puts the PNG on
            # disk off the loop (SnapshotSink), so the file may land a moment after READY=1.
            wait_for(lambda: (device.snapshots / "latest.png").exists(), 5,
                     "the idle screen's snapshot after READY=1", interval=0.01)
            websocket_open_millis(device.port)  # and the server registers peers
            values.append((ready - started) * 1000)
        finally:
            del os.environ["NOTIFY_SOCKET"]
            device.stop()
            receiver.close()
            shutil.rmtree(notify_path.parent, ignore_errors=True)
        started = time.monotonic()
        subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=1", "!", "fakesink"], check=True)
        baseline.append((time.monotonic() - started) * 1000)
    results.add("startup", "Start-up: process start → ready", "ms", values,
                "gst-launch-1.0 videotestsrc num-buffers=1 ! fakesink (start, GStreamer init, one buffer, exit)",
                baseline, "ready = READY=1 on the notify socket: servers, control socket, idle screen on the sink")


# --- report --------------------------------------------------------------------------------------------------


def loadavg():
    return Path("/proc/loadavg").read_text().split()[:3]


def markdown(report):
    lines = [
        "# Benchmark results",
        "",
        f"`make bench` on {report['machine']['when']} — {report['machine']['cpu']} ({report['machine']['cores']} cores), "
        f"{report['machine']['chromium']}, GStreamer {report['machine']['gstreamer']}, release build.",
        "",
        f"Load average at start {' / '.join(report['load']['start'])}, at end {' / '.join(report['load']['end'])} "
        f"(`uptime`: {report['load']['uptime']}). The machine was shared with other builds: compare the ratios "
        "to the baselines, which ran in the same run under the same load.",
        "",
        "| figure | median | p95 | n | baseline (same run) | baseline median | baseline p95 | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        u = r["unit"]
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else "–"
        lines.append(f"| {r['figure']} | {fmt(r['median'], u)} {u} | {fmt(r['p95'], u)} {u} | {r['n']} | "
                     f"{r['baseline']} | {fmt(r['baseline_median'], u)} {u} | {fmt(r['baseline_p95'], u)} {u} | "
                     f"{ratio} |")
    m = report["memory"]
    lines += [
        "",
        "## Memory (resident set of the device process)",
        "",
        "| state | median | p95 | n | baseline (same run) |",
        "|---|---|---|---|---|",
        f"| idle, after start (before any room) | {fmt(summary(m['idle'])['median'], 'MiB')} MiB | "
        f"{fmt(summary(m['idle'])['p95'], 'MiB')} MiB | {len(m['idle'])} | gst-launch-1.0 running the device's "
        f"720p source branch alone: {fmt(m.get('source_only_mib'), 'MiB')} MiB |",
        f"| in a call (default 640×480) | {fmt(summary(m['in_call'])['median'], 'MiB')} MiB | "
        f"{fmt(summary(m['in_call'])['p95'], 'MiB')} MiB | {len(m['in_call'])} | bare gst-launch-1.0 720p "
        f"send + receive pipeline: {fmt(m['bare_pipeline_mib'], 'MiB')} MiB (device's 720p call: "
        f"{fmt(m.get('call_720p_mib'), 'MiB')} MiB) |",
        f"| idle after {m['cycles']} call cycles | {fmt(m['after_cycles'][-1], 'MiB')} MiB | – | 1 | "
        f"first cycle: {fmt(m['after_cycles'][0], 'MiB')} MiB |",
        f"| growth per 100 call cycles | {m['growth_per_100_cycles_mib']:+.1f} MiB | – | "
        f"{max(0, m['cycles'] - 5)} | least-squares slope of the idle RSS after cycles 6–{m['cycles']} |",
        "",
        "## Memory by owner (/proc/PID/smaps of the device)",
        "",
        *[f"* **{title}**: anonymous {o['anonymous_mib']:.1f} MiB, mapped files {o['files_mib']:.1f} MiB — "
          + ", ".join(f"{k} {v:.1f}" for k, v in o["owners"].items())
          for title, o in m.get("owners", {}).items()],
        "",
        "## Glass-to-glass by stage (Chromium's getStats() over the same windows)",
        breakdown_markdown(report.get("breakdown", {})),
        "## CPU by thread (the 720p call and the bare pipeline, same windows)",
        "",
        cpu_threads_markdown(report.get("cpu_threads", {})),
        "## What each figure measures",
        "",
    ]
    for r in report["rows"]:
        lines.append(f"* **{r['figure']}**: {r['note']}.")
    lines += [
        "",
        "Glass-to-glass uses the same clock on both ends (one machine): the sender draws `Date.now()` / the wall "
        "clock as 42 black-and-white blocks (and their inverse) into the top of each picture, the receiver reads "
        "them from the decoded picture; the device's side is `intercom run --clock-stamp` (`ClockStamp.swift`), "
        "the page's is `bench/page-hooks.js`. The device's camera is its test source, so no sensor or display "
        "latency is included on either side.",
        "",
        f"Page hang-ups the device missed (it was then hung up from the device): {len(report['missed_hangups'])}.",
        "",
        "Reproduce: `make bench` (root; about 10 minutes). Raw samples: `latest.json`.",
    ]
    return "\n".join(lines) + "\n"


def machine_info():
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    chromium = subprocess.run([conftest.CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    gst = subprocess.run(["gst-launch-1.0", "--version"], capture_output=True, text=True).stdout.split("\n")[1]
    return {"when": time.strftime("%Y-%m-%d %H:%M %Z"), "cpu": cpu, "cores": os.cpu_count(), "chromium": chromium,
            "gstreamer": gst.split()[-1], "kernel": platform.release()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few repetitions, to check the runner itself")
    parser.add_argument("--out", default=str(REPO_ROOT / "bench" / "results"))
    parser.add_argument("--only", choices=["call-cycles", "glass", "lost", "join", "cpu", "nat", "ring"],
                        help="run one measurement alone and print it (writes no results files)")
    parser.add_argument("--cycles", type=int, default=40,
                        help="with --only call-cycles: how many calls; with --only join: calls per side (default 10)")
    parser.add_argument("--calls", type=int, default=3,
                        help="with --only glass: how many calls; with --only nat: calls per path (default 3)")
    parser.add_argument("--kills", type=int, default=10, help="with --only lost: how many killed callers")
    parser.add_argument("--presses", type=int, default=10, help="with --only ring: presses per door")
    parser.add_argument("--trace", action="store_true",
                        help="with --only glass: run the device under GStreamer's latency tracer and print the "
                             "per-element and source → sink latencies")
    parser.add_argument("--device-arg", action="append", default=[], metavar="ARG",
                        help="with --only glass: one more `intercom run` argument (repeat for more), e.g. "
                             "--device-arg=--config --device-arg=/tmp/no-mic.yaml")
    args = parser.parse_args()
    reps = {"press": 8, "cycles": 8, "baseline_cycles": 4, "g2g": 3, "cpu_windows": 2, "cpu_seconds": 3, "cpu_warmup": 2,
            "startup": 3, "kills": 2, "baseline_hangups": 1} if args.quick else {
        "press": 40, "cycles": 50, "baseline_cycles": 20, "g2g": 6, "cpu_windows": 6, "cpu_seconds": 5, "cpu_warmup": 10,
        "startup": 15, "kills": 10, "baseline_hangups": 5}
    if not os.access(BINARY, os.X_OK) and args.only != "nat":
        raise BenchError(f"{BINARY} not found: `swift build -c release` (make bench does)")

    scratch = tempfile.mkdtemp(prefix="intercom-bench-")
    import baseline_site  # noqa: PLC0415  (bench/baseline_site.py, which imports this module)
    if args.only == "call-cycles":
        if args.cycles < 8:
            raise BenchError("--cycles needs at least 8 (the first 5 are warm-up)")
        print(f"load average {' '.join(loadavg())}; scratch {scratch}", flush=True)
        with Namespace():
            bench_call_cycles_only(scratch, args.cycles)
        print(f"load average {' '.join(loadavg())}", flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
        return
    if args.only == "nat":
        print(f"load average {' '.join(loadavg())}; scratch {scratch}", flush=True)
        import nat  # noqa: PLC0415  (bench/nat.py, which imports this module)

        nat.bench_nat_only(scratch, args.calls)
        print(f"load average {' '.join(loadavg())}", flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
        return
    if args.only == "lost":
        print(f"load average {' '.join(loadavg())}; scratch {scratch}", flush=True)
        with Namespace():
            device = BenchDevice(scratch)
            device.start()
            try:
                bench_lost(Results(), scratch, device, args.kills, max(1, args.kills // 2))
                bench_link_lost(Results(), device, args.kills, lambda label: Browser(scratch, label), wait_for)
            finally:
                device.stop()
        print(f"load average {' '.join(loadavg())}", flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
        return
    if args.only == "join":
        cycles = 10 if args.cycles == 40 else args.cycles
        print(f"load average {' '.join(loadavg())}; scratch {scratch}", flush=True)
        with Namespace(), baseline_site.LanBaselineSite(BINARY, Path(scratch)) as site:
            browser, host = Browser(scratch, "guest"), Browser(scratch, "host")
            try:
                bench_join_only(scratch, browser, host, cycles, site.url + "/")
            finally:
                browser.quit()
                host.quit()
        print(f"load average {' '.join(loadavg())}", flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
        return
    if args.only == "ring":
        print(f"load average {' '.join(loadavg())}; scratch {scratch}", flush=True)
        with Namespace():
            bench_ring_only(scratch, args.presses)
        print(f"load average {' '.join(loadavg())}", flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
        return
    if args.only == "cpu":
        print(f"load average {' '.join(loadavg())}; scratch {scratch}", flush=True)
        with Namespace():
            browser = Browser(scratch, "guest")
            try:
                bench_cpu(Results(), scratch, browser, reps["cpu_windows"], reps["cpu_seconds"], reps["cpu_warmup"])
            finally:
                browser.quit()
        print(f"load average {' '.join(loadavg())}", flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
        return
    if args.only == "glass":
        print(f"load average {' '.join(loadavg())}; scratch {scratch}; device arguments {args.device_arg}", flush=True)
        with Namespace(), baseline_site.LanBaselineSite(BINARY, Path(scratch)) as site:
            browser, host = Browser(scratch, "guest"), Browser(scratch, "host")
            stamped = BenchDevice(scratch, ["--clock-stamp", *args.device_arg])
            trace = Path(scratch) / "latency-trace.log"
            if args.trace:
                os.environ.update(GST_TRACERS="latency(flags=pipeline+element)", GST_DEBUG="GST_TRACER:7",
                                  GST_DEBUG_FILE=str(trace), GST_DEBUG_NO_COLOR="1")
            stamped.start()
            for name in ("GST_TRACERS", "GST_DEBUG", "GST_DEBUG_FILE"):
                os.environ.pop(name, None)
            try:
                bench_glass_to_glass(Results(), stamped, browser, host, reps["g2g"], site.url + "/", calls=args.calls)
            finally:
                stamped.stop()
                browser.quit()
                host.quit()
            if args.trace:
                parsed = parse_latency_trace(trace)
                for kind, table in parsed.items():
                    print(f"latency tracer, {kind} (ms):")
                    for name, figure in table.items():
                        print(f"  {name:48} mean {figure['mean']:7.2f}  p95 {figure['p95']:7.2f}  n {figure['n']}")
        print(f"load average {' '.join(loadavg())}", flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
        return
    results = Results()
    load_start = loadavg()
    print(f"load average {' '.join(load_start)}; scratch {scratch}", flush=True)
    browsers = []
    with Namespace(), baseline_site.LanBaselineSite(BINARY, Path(scratch)) as site:
        try:
            bench_startup(results, scratch, reps["startup"])
            browser = Browser(scratch, "guest")
            host = Browser(scratch, "host")
            browsers = [browser, host]
            device = BenchDevice(scratch)
            device.start()
            try:
                idle = idle_memory(device)  # before the presses: each room starts the call's pipeline
                bench_press(results, device, reps["press"])
                memory = bench_join_and_memory(results, device, browser, host, reps["cycles"],
                                               reps["baseline_cycles"], idle, site.url + "/")
                bench_lost(results, scratch, device, reps["kills"], reps["baseline_hangups"])
                bench_link_lost(results, device, reps["kills"], lambda label: Browser(scratch, label), wait_for)
            finally:
                device.stop()
            stamped = BenchDevice(scratch, ["--clock-stamp"])
            stamped.start()
            try:
                bench_glass_to_glass(results, stamped, browser, host, reps["g2g"], site.url + "/")
            finally:
                stamped.stop()
            host.quit()
            browsers = [browser]
            memory |= bench_cpu(results, scratch, browser, reps["cpu_windows"], reps["cpu_seconds"],
                                reps["cpu_warmup"])
        finally:
            for b in browsers:
                b.quit()
    import nat  # noqa: PLC0415  (bench/nat.py, which imports this module)

    nat.add_rows(results, scratch, args.quick)
    report = {"machine": machine_info(), "repetitions": reps,
              "load": {"start": load_start, "end": loadavg(),
                       "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()},
              "rows": results.rows, "breakdown": results.breakdown, "cpu_threads": results.cpu_threads,
              "memory": memory, "missed_hangups": MISSED_HANGUPS}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=1) + "\n")
    text = markdown(report)
    (out / "latest.md").write_text(text)
    print()
    print(text)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(f"bench: {error}")
