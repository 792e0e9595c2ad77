"""Away from home: the door behind a home router, the phone behind a carrier NAT, a TURN server between.

A simulated internet from network namespaces and real parts (issue 16):

    home (door 10.71.1.2) ── rhome (NAT, port forward tcp 8080) ── inet (coturn, 100.64.0.1) ── rmob (NAT) ── mob (Chromium 10.71.2.2)
                              public 100.64.0.2                                                public 100.64.1.2

Both routers masquerade with nftables; the phone's can be made symmetric (`masquerade random,fully-random`,
a new public port for every destination) and can drop the phone's UDP. coturn (Debian's `turnserver`) runs
in `inet` with a config of the test's own, as STUN server and TURN relay with a shared secret. The page comes
from the door through the home router's port forward; its media must cross both NATs. Nothing outside the
test's own namespaces is addressed.
"""

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from polling import poll
from test_pairing import RING_TIMEOUT, page_hooks, pair_page, ringing_dialog_open
from test_call import (CALL_TIMEOUT, PAGE_TIMEOUT, check_browser_video_rises, check_device_media_rises, click,
                       page_state, page_test_hooks, remote_video, wait_device_idle, wait_page_state)

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARY = REPO_ROOT / ".build/debug/intercom"
WEB_ROOT = "rootfs-overlay/usr/share/intercom/web"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CLONE_NEWNET = 0x40000000

HOME_PUBLIC, MOBILE_PUBLIC, INTERNET = "100.64.0.2", "100.64.1.2", "100.64.0.1"
DOOR_PORT = 8080
TURN_PORT = 3478
TURN_SECRET = "nat-test-static-auth-secret-7Qx2"  # must never reach the page
ICE_TIMEOUT = 10  # seconds: the door's and the page's bound for finding a candidate pair
PAGE_URL = f"http://{HOME_PUBLIC}:{DOOR_PORT}"
SIGNALING_PORT, HOSTED_PORT = 9000, 8000
HOSTED_URL = f"http://{INTERNET}:{HOSTED_PORT}"  # the exported site on a static host of its own
LAN_URL = f"http://10.71.1.2:{DOOR_PORT}"  # the door as a phone on the home Wi-Fi reaches it


# A router drops what arrives from outside for itself, as home routers do. Dropped there (before conntrack
# confirms it), a peer's early check leaves no conntrack entry behind that would make masquerade pick another
# public port for the door's own packets to that peer (which breaks hole punching on Linux NAT).
WAN_INPUT = """
table ip wan {
  chain input { type filter hook input priority filter; iifname "out" drop; }
}
"""


def _run(*args, check=True):
    result = subprocess.run(list(args), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"`{' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout


def _setns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns(CLONE_NEWNET): {os.strerror(errno)}")


def _nft(namespace, rules):
    result = subprocess.run(["ip", "netns", "exec", namespace, "nft", "-f", "-"], input=rules, text=True,
                            capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"nft in {namespace} refused the rules: {result.stderr.strip()}\n{rules}")


class Internet:
    """The five namespaces, their links and routes, and the routers' nftables rules."""

    def __init__(self):
        tag = f"nat{os.getpid()}"
        self.home, self.rhome, self.inet = f"{tag}-home", f"{tag}-rhome", f"{tag}-inet"
        self.rmob, self.mob = f"{tag}-rmob", f"{tag}-mob"
        self.names = [self.home, self.rhome, self.inet, self.rmob, self.mob]
        self.processes = []

    def build(self):
        for name in self.names:
            _run("ip", "netns", "add", name)
            # An IPv4 internet: without IPv6 no link-local address goes through duplicate address detection
            # after Chromium has started, which it takes as a network change and fails the page load then.
            for scope in ("all", "default"):
                _run("ip", "netns", "exec", name, "sysctl", "-q", "-w", f"net.ipv6.conf.{scope}.disable_ipv6=1")
            _run("ip", "-n", name, "link", "set", "lo", "up")
        self._link(self.home, "eth0", "10.71.1.2/24", self.rhome, "in", "10.71.1.1/24")
        self._link(self.rhome, "out", f"{HOME_PUBLIC}/24", self.inet, "home", f"{INTERNET}/24")
        self._link(self.inet, "mob", "100.64.1.1/24", self.rmob, "out", f"{MOBILE_PUBLIC}/24")
        self._link(self.rmob, "in", "10.71.2.1/24", self.mob, "eth0", "10.71.2.2/24")
        _run("ip", "-n", self.home, "route", "add", "default", "via", "10.71.1.1")
        _run("ip", "-n", self.mob, "route", "add", "default", "via", "10.71.2.1")
        _run("ip", "-n", self.rhome, "route", "add", "default", "via", INTERNET)
        _run("ip", "-n", self.rmob, "route", "add", "default", "via", "100.64.1.1")
        # The internet drops what it cannot route (the peers' private host candidates, Chromium's resolver)
        # without an error: a sender in `inet` (coturn relaying a check to 10.71.1.2) must not get
        # ENETUNREACH, which coturn takes as the end of the allocation.
        # A veth whose far end has no address, and a gateway with a fixed MAC: frames go out and vanish.
        _run("ip", "-n", self.inet, "link", "add", "nowhere", "type", "veth", "peer", "name", "nowhere1")
        for interface in ("nowhere", "nowhere1"):
            _run("ip", "-n", self.inet, "link", "set", interface, "up")
        _run("ip", "-n", self.inet, "neigh", "add", "192.0.2.254", "lladdr", "02:00:00:00:00:01", "dev", "nowhere",
             "nud", "permanent")
        _run("ip", "-n", self.inet, "route", "add", "default", "via", "192.0.2.254", "dev", "nowhere", "onlink")
        for router in (self.rhome, self.inet, self.rmob):
            _run("ip", "netns", "exec", router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        # Home: the owner forwarded the door's web and signaling port (TCP only) and nothing else.
        _nft(self.rhome, f"""
table ip nat {{
  chain pre {{ type nat hook prerouting priority dstnat; iifname "out" tcp dport {DOOR_PORT} dnat to 10.71.1.2:{DOOR_PORT}; }}
  chain post {{ type nat hook postrouting priority srcnat; oifname "out" masquerade; }}
}}
{WAN_INPUT}
""")
        self.set_mobile_nat(symmetric=False, udp=True)

    def _link(self, a, a_if, a_addr, b, b_if, b_addr):
        temporary = f"t{os.getpid() % 100000}{a_if[:3]}"
        _run("ip", "link", "add", temporary + "a", "type", "veth", "peer", "name", temporary + "b")
        _run("ip", "link", "set", temporary + "a", "netns", a, "name", a_if)
        _run("ip", "link", "set", temporary + "b", "netns", b, "name", b_if)
        for ns, interface, address in ((a, a_if, a_addr), (b, b_if, b_addr)):
            _run("ip", "-n", ns, "addr", "add", address, "dev", interface)
            _run("ip", "-n", ns, "link", "set", interface, "up")

    def set_mobile_nat(self, symmetric, udp):
        """The carrier's NAT: port-preserving (cone-like) or symmetric; UDP from the phone passed or dropped."""
        flags = " random,fully-random" if symmetric else ""
        drop = 'iifname "in" meta l4proto udp drop;' if not udp else ""
        _run("ip", "netns", "exec", self.rmob, "nft", "flush", "ruleset")
        _nft(self.rmob, f"""
table ip nat {{
  chain post {{ type nat hook postrouting priority srcnat; oifname "out" masquerade{flags}; }}
}}
table ip filter {{
  chain phone_out {{ type filter hook forward priority filter; {drop} }}
}}
{WAN_INPUT}
""")

    def start(self, namespace, args, log_path, cwd=REPO_ROOT):
        log = open(log_path, "wb")
        process = subprocess.Popen(["ip", "netns", "exec", namespace, *map(str, args)], cwd=cwd,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append((process, log))
        return process

    @contextmanager
    def entered(self, namespace):
        """This thread in `namespace` (chromedriver and selenium's connections to it live there)."""
        original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
        try:
            _setns(target)
            yield
        finally:
            _setns(original)
            os.close(target)
            os.close(original)

    def stop(self, process):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def teardown(self):
        for process, log in reversed(self.processes):
            self.stop(process)
            log.close()
        for name in self.names:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture
def internet(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the NAT tests need root: they build network namespaces with nftables NAT")
    for tool, package in (("nft", "nftables"), ("turnserver", "coturn")):
        if shutil.which(tool) is None and not Path(f"/usr/bin/{tool}").exists():
            pytest.fail(f"`{tool}` not found: install {package} (scripts/deps.sh test does)")
    net = Internet()
    try:
        net.build()
        yield net
    finally:
        net.teardown()


@pytest.fixture
def turn(internet, tmp_path):
    return start_turn(internet, tmp_path)


def start_turn(internet, tmp_path):
    """coturn in the internet namespace: STUN and TURN (UDP and TCP) on 100.64.0.1:3478, REST shared secret.
    Returns its log (also used by bench/run.py --only nat)."""
    log = tmp_path / "turnserver.log"
    process = internet.start(internet.inet, [
        "turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls", "--log-file=stdout", "--simple-log", "--verbose",
        f"--listening-ip={INTERNET}", f"--relay-ip={INTERNET}", f"--listening-port={TURN_PORT}",
        "--use-auth-secret", f"--static-auth-secret={TURN_SECRET}", "--realm=nat.test", "--fingerprint",
        "--min-port=49152", "--max-port=49999", f"--pidfile={tmp_path / 'turnserver.pid'}",
        f"--userdb={tmp_path / 'turndb'}",
    ], log)
    poll(lambda: process.poll() is not None or "Total UDP servers" in log.read_text(errors="replace")
         or "listener opened on" in log.read_text(errors="replace"), 10,
         message=lambda: f"turnserver did not start:\n{log.read_text(errors='replace')[-2000:]}")
    assert process.poll() is None, log.read_text(errors="replace")[-2000:]
    return log


class Door:
    def __init__(self, internet, tmp_path, ice_args, signaling_args=None, binary=BINARY):
        """`binary`: bench/nat.py runs the release build in the full `make bench`."""
        self.internet = internet
        self.control_path = tmp_path / "control.sock"
        self.log_path = tmp_path / "device.log"
        self.process = internet.start(internet.home, [
            binary, "run",
            *(signaling_args if signaling_args is not None else ["--listen", f"0.0.0.0:{DOOR_PORT}", "--web-root", WEB_ROOT, "--web-base", PAGE_URL]),
            "--control", self.control_path, "--snapshots", tmp_path / "snapshots", "--knocks-need-answer", "false",
            "--ice-timeout", ICE_TIMEOUT, *ice_args,
        ], self.log_path)
        poll(self._up, 20, message=lambda: f"the door never answered on its control socket\n{self.log()[-3000:]}")

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _up(self):
        if self.process.poll() is not None:
            pytest.fail(f"the door exited with {self.process.returncode}:\n{self.log()[-3000:]}")
        try:
            return self.control({"cmd": "state"}).get("ok") is True
        except (OSError, ValueError):
            return False

    def control(self, request):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(self.control_path))
            connection.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data)

    def state(self):
        return self.control({"cmd": "state"})["state"]

    def wait_for_log(self, needle, timeout):
        return poll(lambda: needle in self.log(), timeout,
                    message=lambda: f"no door log line with {needle!r}\n{self.log()[-3000:]}")


def start_door(internet, tmp_path, ice_args, signaling_args=None):
    return Door(internet, tmp_path, ice_args, signaling_args)


PC_PROBE_JS = """
window.__pcs = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) { const pc = new Native(...args); window.__pcs.push(pc); return pc; };
window.RTCPeerConnection.prototype = Native.prototype;
"""

# The selected candidate pair of the call's PeerConnection (the one receiving video), with both types.
SELECTED_PAIR_JS = """
const done = arguments[arguments.length - 1];
const pc = (window.__pcs || []).filter((p) => p.connectionState === 'connected'
  && p.getReceivers().some((r) => r.track && r.track.kind === 'video')).pop();
if (!pc) { done(null); return; }
pc.getStats().then((report) => {
  let pair = null;
  report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId); });
  const local = pair && report.get(pair.localCandidateId);
  const remote = pair && report.get(pair.remoteCandidateId);
  done(local && remote ? {local: local.candidateType, remote: remote.candidateType,
                          localProtocol: local.protocol, relayProtocol: local.relayProtocol || null,
                          iceServers: JSON.stringify(pc.getConfiguration().iceServers)} : null);
}).catch((e) => done({error: String(e)}));
"""


@contextmanager
def chromium(internet, namespace, tmp_path, name):
    """Headless Chromium and its chromedriver in `namespace`; this thread is in the namespace meanwhile, so
    selenium reaches chromedriver on that namespace's localhost. Nesting is fine: on leaving, the thread goes
    back to the namespace it was in."""
    with internet.entered(namespace):
        options = Options()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                         "--autoplay-policy=no-user-gesture-required",
                         # The page comes over plain HTTP from a public address: let it have a camera.
                         f"--unsafely-treat-insecure-origin-as-secure={PAGE_URL},{HOSTED_URL},{LAN_URL}"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(tmp_path / f"chromedriver-{name}.log")),
                                  options=options)
        try:
            driver.set_page_load_timeout(20)
            driver.set_script_timeout(10)
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PC_PROBE_JS})
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def phone(internet, tmp_path):
    """Headless Chromium in the mobile namespace; the test runs with this thread in that namespace."""
    with chromium(internet, internet.mob, tmp_path, "phone") as driver:
        yield driver


def ring(door, base=PAGE_URL):
    assert door.control({"cmd": "press", "button": "doorbell"}) == {"ok": True}
    poll(lambda: door.state()["room"], 5, message="no room after the doorbell")
    answer = door.control({"cmd": "link"})
    assert answer.get("ok") is True, answer
    assert answer["link"].startswith(base + "/"), answer
    return answer["link"]


def join_from_phone(phone, link):
    """Open the link, join; returns seconds from the click to the first decoded frame of the door's video."""
    phone.get(link)
    wait_page_state(phone, "ready", PAGE_TIMEOUT)
    clicked = time.monotonic()
    click(phone, "join")
    wait_page_state(phone, "in-call", CALL_TIMEOUT)
    poll(lambda: (v := remote_video(phone)) and v["frames"] > 0, 10,
         message=lambda: f"<video id=remote> decodes nothing: {remote_video(phone)}")
    return time.monotonic() - clicked


def selected_pair(phone):
    return poll(lambda: phone.execute_async_script(SELECTED_PAIR_JS), 10,
                message="the page's getStats() shows no selected candidate pair")


def door_pair(door):
    """(local, remote) candidate types of the door's selected pair, from its log (webrtcbin's stats)."""
    match = poll(lambda: re.search(r"selected candidate pair with \S+: local (\w+), remote (\w+)", door.log()), 10,
                 message=lambda: f"the door logged no selected candidate pair\n{door.log()[-3000:]}")
    return match.group(1), match.group(2)


def talk_both_ways(door, phone):
    check_browser_video_rises(phone)
    check_device_media_rises(door)


def served_config(internet):
    """config.json as the phone gets it (fetched from the mobile namespace through both NATs)."""
    with internet.entered(internet.mob):
        with urllib.request.urlopen(f"{PAGE_URL}/config.json", timeout=10) as response:
            return response.read().decode()


STUN = ["--stun-server", f"stun:{INTERNET}:{TURN_PORT}"]
TURN_UDP = [*STUN, "--turn-server", f"turn:{INTERNET}:{TURN_PORT}", "--turn-secret", TURN_SECRET]
TURN_TCP = [*STUN, "--turn-server", f"turn:{INTERNET}:{TURN_PORT}?transport=tcp", "--turn-secret", TURN_SECRET]


# --- cases ---------------------------------------------------------------------------------------------------


def test_cone_nats_with_stun_connect_directly(internet, turn, phone, tmp_path):
    door = start_door(internet, tmp_path, STUN)
    joined = time.monotonic()
    seconds = join_from_phone(phone, ring(door))
    talk_both_ways(door, phone)
    pair = selected_pair(phone)
    assert pair["local"] in ("srflx", "prflx") and pair["remote"] in ("srflx", "prflx"), pair
    local, remote = door_pair(door)
    assert "relay" not in (local, remote) and "host" not in (local, remote), (local, remote)
    print(f"\nnat: join → first frame, direct (srflx/srflx): {seconds:.2f} s")
    # The connect bound is for finding a pair, not for the call: past it the call goes on, both ways.
    time.sleep(max(0.0, joined + ICE_TIMEOUT + 2 - time.monotonic()))
    assert page_state(phone) == "in-call", page_state(phone)
    talk_both_ways(door, phone)


def check_page_got_only_minted_credentials(internet):
    """config.json as the phone gets it names the TURN server with a REST username for the page that has not
    expired, and nowhere the shared secret."""
    config = served_config(internet)
    assert TURN_SECRET not in config, config
    relays = [s for s in json.loads(config)["iceServers"] if s["urls"].startswith("turn:")]
    assert relays, config
    for server in relays:
        expiry, name = server["username"].split(":")
        assert name == "page" and time.time() < int(expiry) <= time.time() + 3600 + 5, server
        assert server["credential"] and server["credential"] != TURN_SECRET, server


def coturn_allocated_for(turn_log, name):
    """coturn verified a REST credential minted for `name` (its HMAC checked out) and gave it a relay."""
    return re.search(rf"user <\d+:{name}>: incoming packet ALLOCATE processed, success",
                     turn_log.read_text(errors="replace"))


def test_turn_credentials_are_minted_for_door_and_page_and_accepted_by_coturn(internet, turn, phone, tmp_path):
    """Case 2, the credentials: both webrtcbin (the door) and the page allocate relays on coturn with
    credentials the door minted from the shared secret; the page never sees the secret. This proves the
    userinfo encoding of `<expiry>:<name>` in webrtcbin's TURN URI: coturn refuses a wrong username."""
    internet.set_mobile_nat(symmetric=True, udp=True)
    door = start_door(internet, tmp_path, TURN_UDP)
    check_page_got_only_minted_credentials(internet)
    link = ring(door)
    phone.get(link)
    wait_page_state(phone, "ready", PAGE_TIMEOUT)
    click(phone, "join")
    poll(lambda: coturn_allocated_for(turn, "page"), 15,
         message=lambda: f"coturn allocated no relay for the page\n{turn.read_text(errors='replace')[-3000:]}")
    poll(lambda: coturn_allocated_for(turn, "door"), 15,
         message=lambda: f"coturn allocated no relay for the door\n{turn.read_text(errors='replace')[-3000:]}")
    door.wait_for_log("relay", ICE_TIMEOUT + 5)  # the door's candidate types name its relay candidate
    assert TURN_SECRET not in phone.page_source and TURN_SECRET not in phone.current_url
    configured = phone.execute_script(
        "return JSON.stringify((window.__pcs || []).map((pc) => pc.getConfiguration().iceServers));")
    assert "turn:" in configured and TURN_SECRET not in configured, configured
    assert TURN_SECRET not in door.log(), "the door logged its TURN secret"


def test_symmetric_nat_goes_through_turn(internet, turn, phone, tmp_path):
    internet.set_mobile_nat(symmetric=True, udp=True)
    door = start_door(internet, tmp_path, TURN_UDP)
    check_page_got_only_minted_credentials(internet)
    seconds = join_from_phone(phone, ring(door))
    talk_both_ways(door, phone)
    pair = selected_pair(phone)
    assert "relay" in (pair["local"], pair["remote"]), pair
    local, remote = door_pair(door)
    assert "relay" in (local, remote), (local, remote)
    print(f"\nnat: join → first frame, through TURN (page {pair['local']}/{pair['remote']}, "
          f"door {local}/{remote}): {seconds:.2f} s")


def test_udp_blocked_connects_over_turn_tcp(internet, turn, phone, tmp_path):
    internet.set_mobile_nat(symmetric=True, udp=False)
    door = start_door(internet, tmp_path, TURN_TCP)
    join_from_phone(phone, ring(door))
    talk_both_ways(door, phone)
    pair = selected_pair(phone)
    assert pair["local"] == "relay" and pair["relayProtocol"] == "tcp", pair
    local, remote = door_pair(door)  # the phone's TCP relay is the door's remote candidate (or both relay)
    assert "relay" in (local, remote), (local, remote)


def test_symmetric_nat_without_turn_says_the_door_cannot_be_reached(internet, turn, phone, tmp_path):
    internet.set_mobile_nat(symmetric=True, udp=True)
    door = start_door(internet, tmp_path, STUN)
    link = ring(door)
    code = door.state()["room"]["code"]
    phone.get(link)
    wait_page_state(phone, "ready", PAGE_TIMEOUT)
    click(phone, "join")
    poll(lambda: page_state(phone) == "error", ICE_TIMEOUT + 15, interval=0.2,
         message=lambda: f"the page did not give up: state={page_state(phone)!r} {page_test_hooks(phone)}")
    status = phone.execute_script("return document.getElementById('status').textContent;")
    assert "cannot be reached from this network" in status and "TURN" in status, status
    # The door gives up too (libnice may call ICE failed before the door's own bound) and says what it had.
    poll(lambda: re.search(r"ended \(failed\): (no ICE candidate pair within \d+ s|ICE failed)\b.*"
                           r"local candidates host, srflx; remote candidates host, srflx", door.log()),
         ICE_TIMEOUT + 10, message=lambda: f"the door did not end the attempt\n{door.log()[-3000:]}")
    # The door is back to serving the room: the failed attempt is over (as failed, with the reason), and the
    # same room (code and link) waits for the next caller.
    poll(lambda: (s := door.state())["call"] is None and s["phase"] == "room", 10,
         message=lambda: f"the door did not come back to the room from the failed call: {door.state()}")
    state = door.state()
    assert state["room"]["code"] == code, state
    assert state["lastCall"]["endedBy"] == "failed", state
    assert re.search(r"no ICE candidate pair within \d+ s|ICE failed", state["lastCall"]["reason"]), state
    assert door.control({"cmd": "link"})["link"] == link, "the room's link changed after the failed call"
    # A second caller who can reach the door (a phone on the home Wi-Fi) joins that same room and talks.
    with chromium(internet, internet.home, tmp_path, "lan") as lan:
        join_from_phone(lan, link.replace(PAGE_URL, LAN_URL, 1))
        talk_both_ways(door, lan)
        assert door.state()["room"]["code"] == code, door.state()
        lan_pair = selected_pair(lan)
    # On the LAN the pair is direct (the door's host address may show as prflx if its check came first).
    assert lan_pair["local"] == "host" and lan_pair["remote"] in ("host", "prflx"), lan_pair


def test_hosted_page_and_public_signaling_join_from_the_qr_link(internet, turn, phone, tmp_path):
    """Case 5: `intercom web export` writes the site for a deployment whose page is on a static host and
    whose signaling is `intercom signaling-server`, both in the internet; the door behind its NAT has no port
    forward at all, and the room's link (what the QR holds) joins from the phone. The phone is behind the
    symmetric NAT, so the call must go through coturn: the exported config.json names the TURN server without
    credentials, and the page relays with the one the door minted for this ring and put in the link's
    fragment. Nothing the page received over the network holds the secret or that credential."""
    internet.set_mobile_nat(symmetric=True, udp=True)
    config = tmp_path / "door.yaml"
    config.write_text(f"""
signaling:
  listen: "off"
  server: ws://{INTERNET}:{SIGNALING_PORT}
web:
  base: {HOSTED_URL}
ice:
  stun_servers: ["stun:{INTERNET}:{TURN_PORT}"]
  turn_servers:
    - url: turn:{INTERNET}:{TURN_PORT}
      shared_secret: {TURN_SECRET}
""")
    site = tmp_path / "site"
    exported = subprocess.run([BINARY, "web", "export", "--config", config, "--web-root", WEB_ROOT, "--out", site],
                              cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert exported.returncode == 0, exported.stderr
    written = (site / "config.json").read_text()
    assert TURN_SECRET not in written, written
    page_config = json.loads(written)
    assert page_config["signaling"] == {"host": INTERNET, "port": SIGNALING_PORT, "path": "/", "key": "peerjs",
                                        "secure": False}, page_config
    assert page_config["iceServers"] == [{"urls": f"stun:{INTERNET}:{TURN_PORT}"},
                                         {"urls": f"turn:{INTERNET}:{TURN_PORT}", "credentialFrom": "room"}], page_config
    assert (site / "index.html").exists() and (site / "js" / "app.js").exists()

    internet.start(internet.inet, [BINARY, "signaling-server", "--host", INTERNET, "--port", SIGNALING_PORT],
                   tmp_path / "signaling.log")
    internet.start(internet.inet, ["python3", "-m", "http.server", "--bind", INTERNET, "--directory", site,
                                   HOSTED_PORT], tmp_path / "static.log")

    def serving():
        with internet.entered(internet.mob):
            try:
                with urllib.request.urlopen(f"{HOSTED_URL}/config.json", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

    poll(serving, 15, message="the static host never served the exported site")
    door = start_door(internet, tmp_path, ["--config", config], signaling_args=[])
    link = ring(door, base=HOSTED_URL)
    fragment = dict(part.split("=", 1) for part in link.split("#", 1)[1].split("&"))
    expiry, credential = fragment["t"].split(".", 1)
    # Valid while the room is open (120 s) and then for the server's lifetime (3600 s by default).
    assert time.time() + 3600 < int(expiry) <= time.time() + 120 + 3600 + 5, fragment
    assert door.control({"cmd": "link"})["link"] == link, "the room's link changed between two reads"
    seconds = join_from_phone(phone, link)
    talk_both_ways(door, phone)
    pair = selected_pair(phone)
    assert "relay" in (pair["local"], pair["remote"]), pair
    local, remote = door_pair(door)
    assert "relay" in (local, remote), (local, remote)
    standard = credential.replace("-", "+").replace("_", "/") + "=" * (-len(credential) % 4)
    relays = [s for s in json.loads(pair["iceServers"]) if f"turn:{INTERNET}:{TURN_PORT}" in json.dumps(s["urls"])]
    assert [(s.get("username"), s.get("credential")) for s in relays] == [(f"{expiry}:room", standard)], relays
    assert coturn_allocated_for(turn, "room"), "coturn allocated no relay with the room link's credential"
    # What crossed the network to the page: the static host's files and what the signaling server relayed.
    # Neither the TURN secret nor the fragment (room secret, credential) is in any of them: it is never sent.
    received = [phone.page_source, phone.current_url, (tmp_path / "static.log").read_text(errors="replace"),
                (tmp_path / "signaling.log").read_text(errors="replace")]
    received += [p.read_text(errors="replace") for p in site.rglob("*") if p.is_file()]
    for text in received:
        assert TURN_SECRET not in text and credential not in text and fragment["k"] not in text, text[:2000]
    assert TURN_SECRET not in door.log() and credential not in door.log(), "the door logged a TURN credential"
    print(f"\nnat: join → first frame, hosted page through TURN (page {pair['local']}/{pair['remote']}): "
          f"{seconds:.2f} s")


def test_a_door_placed_call_goes_through_the_relay(internet, turn, phone, tmp_path):
    """Case 6, the door's side as caller: the door's home ID calls a page behind the symmetric NAT; the door's
    webrtcbin offers with the TURN server too, and the call connects through the relay."""
    internet.set_mobile_nat(symmetric=True, udp=True)
    door = start_door(internet, tmp_path, TURN_UDP)
    phone.get(PAGE_URL + "/")
    wait_page_state(phone, "ready", PAGE_TIMEOUT)
    peer = poll(lambda: (page_test_hooks(phone) or {}).get("peerId"), 5, message="the page shows no peerId")
    reply = door.control({"cmd": "call", "peer": peer, "name": "Flat 3"})
    assert reply.get("ok") is True, reply
    wait_page_state(phone, "incoming", CALL_TIMEOUT)
    click(phone, "answer")
    wait_page_state(phone, "in-call", CALL_TIMEOUT)
    talk_both_ways(door, phone)
    pair = selected_pair(phone)
    assert "relay" in (pair["local"], pair["remote"]), pair
    local, remote = door_pair(door)
    assert "relay" in (local, remote), (local, remote)
    assert poll(lambda: coturn_allocated_for(turn, "door"), 5, message="coturn allocated nothing for the door")


# Candidate types of the selected pair of every connected PeerConnection on the page.
ALL_PAIRS_JS = """
const done = arguments[arguments.length - 1];
const pcs = (window.__pcs || []).filter((p) => p.connectionState === 'connected');
Promise.all(pcs.map((pc) => pc.getStats().then((report) => {
  let pair = null;
  report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId); });
  const local = pair && report.get(pair.localCandidateId);
  const remote = pair && report.get(pair.remoteCandidateId);
  return {local: local ? local.candidateType : null, remote: remote ? remote.candidateType : null,
          video: pc.getReceivers().some((r) => r.track && r.track.kind === 'video')};
}))).then(done).catch((e) => done({error: String(e)}));
"""


def test_a_paired_browser_rings_and_answers_through_the_relay(internet, turn, phone, tmp_path):
    """Case 6, the ring: a browser behind the symmetric NAT pairs with the door (the pairing connection
    crosses both NATs), then the doorbell rings it over the door's ring data link and Answer joins the room.
    Without a relay no path exists between the two (case 4), so the ring arriving at all means the door's
    ring link went through coturn; the page's getStats() names the relay on the ring link and the call."""
    internet.set_mobile_nat(symmetric=True, udp=True)
    state = tmp_path / "state"
    state.mkdir()
    config = tmp_path / "door.yaml"
    config.write_text(f"paths:\n  state: {state}\n")
    door = start_door(internet, tmp_path, [*TURN_UDP, "--config", config])
    phone.get(PAGE_URL + "/")
    wait_page_state(phone, "ready", PAGE_TIMEOUT)
    pair_page(door, phone, "Phone on mobile data")

    ring(door)
    poll(lambda: (page_hooks(phone).get("ring") or {}).get("state") == "ringing", RING_TIMEOUT + ICE_TIMEOUT,
         interval=0.1, message=lambda: f"the paired page did not ring: {page_hooks(phone)}\n{door.log()[-3000:]}")
    assert ringing_dialog_open(phone)
    rings = [p for p in phone.execute_async_script(ALL_PAIRS_JS) if not p["video"]]
    assert rings and all("relay" in (p["local"], p["remote"]) for p in rings), rings
    print(f"\nnat: paired-browser ring link on the page: {rings}")

    click(phone, "ring-answer")
    wait_page_state(phone, "in-call", CALL_TIMEOUT)
    talk_both_ways(door, phone)
    pair = selected_pair(phone)
    assert "relay" in (pair["local"], pair["remote"]), pair
    local, remote = door_pair(door)
    assert "relay" in (local, remote), (local, remote)
    assert coturn_allocated_for(turn, "door"), "coturn allocated nothing for the door"
    assert TURN_SECRET not in door.log(), "the door logged its TURN secret"
