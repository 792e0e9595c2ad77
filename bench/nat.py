"""The NAT part of `make bench` (its rows in the full table, or alone with `bench/run.py --only nat`): calls
through the simulated internet of suites/e2e/test_nat.py, direct and through coturn, each beside two pages
calling each other relayed through the same coturn.

The baseline pages load the site `intercom web export` writes for a hosted deployment and signal through
`intercom signaling-server` in the internet namespace, not through the door's built-in server, whose limits on
guessable room-code IDs would turn the third call from the bench's one phone address away
(bench/baseline_site.py, shared with the LAN baselines of bench/run.py, says more).
"""

import base64
import hashlib
import hmac
import json
import os
import queue
import shutil
import socket
import statistics
import threading
import time
from pathlib import Path

import pytest

import baseline_site
from run import BINARY, REPO_ROOT, BenchError, Browser, Results, wait_for

NAT_FIRST_FRAME_TIMEOUT = 40  # seconds; the NAT suite's ICE bound is 10 s, the rest is a loaded machine
GLASS_WARM_UP = 2  # seconds of each stamped call before stamps count: a fresh jitter buffer and encoder settle
DEBUG_BINARY = REPO_ROOT / ".build" / "debug" / "intercom"
Failed = pytest.fail.Exception  # what the NAT suite's helpers raise when a poll runs out


def nat_join(nat, door, phone):
    """One ring of `door` (in the NAT suite's home namespace) joined by `phone` (this thread is in the mobile
    namespace): #join click → first remote picture, then the page hangs up and the door goes idle."""
    link = nat.ring(door)
    phone.configure()
    phone.driver.get(link)
    phone.wait_state("ready")
    phone.js("__bench.join();")
    millis = phone.wait_first_frame(NAT_FIRST_FRAME_TIMEOUT) - phone.js("return __bench.joinAt;")
    phone.wait_state("in-call")
    phone.hang_up()
    wait_for(lambda: door.state()["phase"] == "idle", 20, "the door to be idle after the call", interval=0.1)
    return millis


def nat_pages_join(nat, internet, host, phone):
    """The baseline: a page in the home namespace (`host`) creates a room and auto-answers; `phone` joins it;
    both pages use relay candidates only, so the call goes through the same coturn."""
    link = host_room(nat, internet, host)
    phone.configure(relay=True)
    phone.driver.get(link)
    phone.wait_state("ready")
    phone.js("__bench.join();")
    millis = pages_first_frame(internet, host, phone) - phone.js("return __bench.joinAt;")
    phone.wait_state("in-call")
    pages_hang_up(internet, host, phone)
    return millis


def host_room(nat, internet, host, **config):
    """`host` (in the home namespace) opens the exported site, creates a room and auto-answers; its link."""
    with internet.entered(internet.home):
        host.configure(autoAnswer=True, relay=True, **config)
        host.driver.get(nat.HOSTED_URL + "/")
        host.wait_state("ready")
        host.js("document.getElementById('create').click();")
        host.wait_state("hosting")
        return host.js("return document.getElementById('room-link').href;")


def pages_first_frame(internet, host, phone):
    """performance.now() of the phone's first remote picture; both pages' states in the error if none came."""
    try:
        return phone.wait_first_frame(NAT_FIRST_FRAME_TIMEOUT)
    except BenchError as error:
        with internet.entered(internet.home):
            host_state = host.state()
        status = phone.js("const s = document.getElementById('status'); return s ? s.textContent : null;")
        raise BenchError(f"{error}; phone page {phone.state()!r} ({status!r}), host page {host_state!r}") from error


def pages_hang_up(internet, host, phone):
    phone.hang_up()
    with internet.entered(internet.home):
        wait_for(lambda: host.state() != "in-call", 10, "the host page to notice the hang-up", interval=0.05)


class DoorEvents:
    """The door's control-socket events (`{"cmd":"events"}`), read by a thread into a queue."""

    def __init__(self, control_path):
        self.connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.connection.connect(str(control_path))
        self.reader = self.connection.makefile("rb")
        self.connection.sendall(b'{"cmd":"events"}\n')
        ack = json.loads(self.reader.readline() or b"null")
        if not isinstance(ack, dict) or ack.get("ok") is not True:
            raise BenchError(f"the door refused the events subscription: {ack}")
        self.queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        try:
            for line in self.reader:
                self.queue.put(json.loads(line))
        except (OSError, ValueError):
            pass

    def drain(self, name=None):
        """The queued events (only those named `name`, when given); the queue is empty afterwards."""
        events = []
        while not self.queue.empty():
            event = self.queue.get_nowait()
            if name is None or event.get("event") == name:
                events.append(event)
        return events

    def close(self):
        self.connection.shutdown(socket.SHUT_RDWR)  # wakes the reader before its file is closed
        self.reader.close()
        self.connection.close()


def nat_glass(nat, door, events, phone, seconds):
    """One call of the stamping door (`intercom run --clock-stamp`) joined by the phone with a stamped camera:
    the stamps read over `seconds` after the warm-up, (door → page, page → door), in ms."""
    link = nat.ring(door)
    phone.configure(stampCamera=True, readStamps=True)
    phone.driver.get(link)
    phone.wait_state("ready")
    phone.js("__bench.join();")
    phone.wait_first_frame(NAT_FIRST_FRAME_TIMEOUT)
    phone.wait_state("in-call")
    time.sleep(GLASS_WARM_UP)
    phone.js("__bench.stamps.length = 0;")
    events.drain()
    time.sleep(seconds)
    to_page = phone.js("return __bench.stamps.slice();")
    to_door = [event["millis"] for event in events.drain("clock-stamp")]
    rejected = phone.js("return __bench.stampsRejected;")
    phone.hang_up()
    wait_for(lambda: door.state()["phase"] == "idle", 20, "the door to be idle after the call", interval=0.1)
    if len(to_page) < 10 or len(to_door) < 10:
        raise BenchError(f"too few stamps read: {len(to_page)} in the page ({rejected} pictures rejected), "
                         f"{len(to_door)} on the door")
    return to_page, to_door


def nat_pages_glass(nat, internet, host, phone, seconds):
    """The baseline: the two pages of `nat_pages_join`, both cameras stamped; the stamps both pages read."""
    link = host_room(nat, internet, host, stampCamera=True, readStamps=True)
    phone.configure(relay=True, stampCamera=True, readStamps=True)
    phone.driver.get(link)
    phone.wait_state("ready")
    phone.js("__bench.join();")
    pages_first_frame(internet, host, phone)
    with internet.entered(internet.home):
        wait_for(lambda: host.js("return __bench.firstFrameAt"), 20, "the host page's first remote picture")
    time.sleep(GLASS_WARM_UP)
    phone.js("__bench.stamps.length = 0;")
    with internet.entered(internet.home):
        host.js("__bench.stamps.length = 0;")
    time.sleep(seconds)
    stamps = phone.js("return __bench.stamps.slice();")
    with internet.entered(internet.home):
        stamps += host.js("return __bench.stamps.slice();")
    pages_hang_up(internet, host, phone)
    if len(stamps) < 20:
        raise BenchError(f"too few stamps read by the two pages: {len(stamps)}")
    return stamps


def rest_credential(secret, name, lifetime):
    """A TURN REST credential as coturn's use-auth-secret checks it: (`<expiry>:<name>`, base64 HMAC-SHA1)."""
    username = f"{int(time.time()) + lifetime}:{name}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def start_baseline_site(nat, internet, scratch, binary):
    """The pages' deployment in the internet namespace (bench/baseline_site.py): the exported site on a static
    server, with `intercom signaling-server` beside it. The same coturn, with a REST credential the bench
    minted from the shared secret, written into the site as a fixed-credential TURN server."""
    username, credential = rest_credential(nat.TURN_SECRET, "bench", 4 * 3600)
    ice = f"""ice:
  stun_servers: ["stun:{nat.INTERNET}:{nat.TURN_PORT}"]
  turn_servers:
    - url: turn:{nat.INTERNET}:{nat.TURN_PORT}
      username: "{username}"
      credential: "{credential}"
"""
    site = baseline_site.export_site(binary, scratch, f"ws://{nat.INTERNET}:{nat.SIGNALING_PORT}", nat.HOSTED_URL,
                                     ice)
    for name, command in baseline_site.server_commands(binary, site, nat.INTERNET, nat.SIGNALING_PORT,
                                                       nat.HOSTED_PORT).items():
        internet.start(internet.inet, command, scratch / f"baseline-{name}.log")
    baseline_site.wait_serving(nat.HOSTED_URL, lambda: internet.entered(internet.home))


def skip_reason():
    """Why the NAT rows cannot run here, or None."""
    if os.geteuid() != 0:
        return "they need root (network namespaces and nftables NAT, like suites/e2e/test_nat.py)"
    for tool, package in (("nft", "nftables"), ("turnserver", "coturn")):
        if shutil.which(tool) is None and not Path(f"/usr/bin/{tool}").exists():
            return f"`{tool}` is not installed ({package}; scripts/deps.sh test installs it)"
    return None


def bench_nat(results, scratch, calls, binary, seconds):
    """Adds the NAT rows to `results`: join click → first frame direct and through TURN, glass-to-glass through
    TURN both ways, each beside the page ↔ page baseline relayed through the same coturn."""
    reason = skip_reason()
    if reason:
        print(f"NAT rows skipped: {reason}", flush=True)
        return results
    import test_nat as nat  # noqa: PLC0415  (needs suites/e2e on the path, as conftest does)

    print(f"NAT part: {calls} calls per path, {seconds} s of stamps per glass-to-glass call, {binary}", flush=True)
    scratch = Path(scratch) / "nat"
    scratch.mkdir()
    internet = nat.Internet()
    samples = {key: [] for key in ("direct", "turn", "pages", "to_page", "to_door", "pages_glass")}
    failed = dict.fromkeys(samples, 0)

    def attempt(path, index, measure, describe=lambda millis: f"{millis:.0f} ms"):
        # A call that never shows a picture is counted and reported, not hidden; the next one starts afresh.
        try:
            value = measure()
        except (BenchError, Failed) as error:
            failed[path] += 1
            print(f"  ! {path} call {index + 1} failed: {error}", flush=True)
            return None
        print(f"  {path} call {index + 1}: {describe(value)}", flush=True)
        return value

    def stamps(values):
        return f"{len(values)} stamps, median {statistics.median(values):.0f} ms"

    def door_through(path, ice, *extra):
        directory = scratch / f"door-{path}"
        directory.mkdir()
        return nat.Door(internet, directory, [*ice, *extra], binary=binary)

    def check_pair(door, relayed):
        local, remote = nat.door_pair(door)
        if relayed != ("relay" in (local, remote)):
            raise BenchError(f"the {'TURN' if relayed else 'direct'} calls' pair on the door: {local}/{remote}")

    try:
        internet.build()
        nat.start_turn(internet, scratch)
        start_baseline_site(nat, internet, scratch, binary)
        flags = [f"--unsafely-treat-insecure-origin-as-secure={nat.PAGE_URL},{nat.HOSTED_URL}"]
        with internet.entered(internet.mob):
            phone = Browser(scratch, "nat-phone", flags)
        with internet.entered(internet.home):
            host = Browser(scratch, "nat-host", flags)
        try:
            door = door_through("direct", nat.STUN)
            try:
                with internet.entered(internet.mob):
                    for index in range(calls):
                        if (millis := attempt("direct", index, lambda: nat_join(nat, door, phone))) is not None:
                            samples["direct"].append(millis)
                check_pair(door, relayed=False)
            finally:
                internet.stop(door.process)

            internet.set_mobile_nat(symmetric=True, udp=True)
            door = door_through("turn", nat.TURN_UDP)
            try:
                with internet.entered(internet.mob):
                    for index in range(calls):  # door and baseline in turns, so both see the same load
                        if (millis := attempt("turn", index, lambda: nat_join(nat, door, phone))) is not None:
                            samples["turn"].append(millis)
                        if (millis := attempt("pages", index,
                                              lambda: nat_pages_join(nat, internet, host, phone))) is not None:
                            samples["pages"].append(millis)
                check_pair(door, relayed=True)
            finally:
                internet.stop(door.process)

            door = door_through("glass", nat.TURN_UDP, "--clock-stamp")
            events = DoorEvents(door.control_path)
            try:
                with internet.entered(internet.mob):
                    for index in range(calls):
                        read = attempt("to_page", index, lambda: nat_glass(nat, door, events, phone, seconds),
                                       lambda both: f"door → page {stamps(both[0])}; page → door {stamps(both[1])}")
                        if read:
                            samples["to_page"] += read[0]
                            samples["to_door"] += read[1]
                        read = attempt("pages_glass", index,
                                       lambda: nat_pages_glass(nat, internet, host, phone, seconds), stamps)
                        if read:
                            samples["pages_glass"] += read
                check_pair(door, relayed=True)
            finally:
                events.close()
                internet.stop(door.process)
        finally:
            with internet.entered(internet.mob):
                phone.quit()
            with internet.entered(internet.home):
                host.quit()
    finally:
        internet.teardown()

    join_baseline = f"page ↔ page relayed through the same coturn ({failed['pages']} of {calls} failed)"
    baseline_note = ("baseline: a page in the home namespace hosts a room and auto-answers, the phone joins it, both "
                     "with relay candidates only; they load the site `intercom web export` wrote and signal through "
                     "`intercom signaling-server` in the internet namespace (bench/nat.py says why)")
    results.add("nat_join_click_direct", "Join click → first frame, phone behind cone NATs (STUN, direct)", "ms",
                samples["direct"], join_baseline, samples["pages"],
                "the phone's page (behind the carrier's port-preserving NAT) from the Join click to the first "
                "presented picture of the door (behind the home NAT); STUN only, the door's selected pair has no "
                f"relay; {failed['direct']} of {calls} calls failed; {baseline_note}")
    results.add("nat_join_click_turn", "Join click → first frame, phone behind a symmetric NAT (through TURN)", "ms",
                samples["turn"], join_baseline, samples["pages"],
                "the same with the carrier's NAT symmetric and the door's TURN server (credentials the door minted "
                f"from the shared secret); the door's selected pair has a relay candidate; {failed['turn']} of "
                f"{calls} calls failed; door and baseline calls in turns")
    glass_baseline = (f"page ↔ page relayed through the same coturn, both directions ({failed['pages_glass']} of "
                      f"{calls} calls failed)")
    results.add("nat_glass_to_glass_door_to_page", "Glass-to-glass through TURN, door → page (symmetric NAT)", "ms",
                samples["to_page"], glass_baseline, samples["pages_glass"],
                f"{calls} calls ({failed['to_page']} failed) of a door run with `--clock-stamp` and TURN, the phone "
                f"behind the symmetric NAT; {seconds} s of stamps each after a {GLASS_WARM_UP} s warm-up, read by "
                "the page from each decoded picture; the baseline's two pages stamp their cameras and read each "
                "other's, in calls taken in turns with the door's")
    results.add("nat_glass_to_glass_page_to_door", "Glass-to-glass through TURN, page → door (symmetric NAT)", "ms",
                samples["to_door"], glass_baseline, samples["pages_glass"],
                "the same calls; the page's camera is a stamped canvas, the door reads each decoded picture "
                "(at the decoder's output, as in the LAN row)")
    print(f"failed calls: direct {failed['direct']}, through TURN {failed['turn']}, page ↔ page {failed['pages']}, "
          f"glass through TURN {failed['to_page']}, glass page ↔ page {failed['pages_glass']} (of {calls} each)",
          flush=True)
    return results


def bench_nat_only(scratch, calls):
    """`--only nat`: the NAT rows alone, printed, with the debug binary the NAT suite runs."""
    return bench_nat(Results(), scratch, calls, DEBUG_BINARY, seconds=4)


def add_rows(results, scratch, quick):
    """The NAT rows of the full `make bench` table, with its release binary."""
    return bench_nat(results, scratch, 2 if quick else 5, BINARY, seconds=3 if quick else 6)
