"""A thin uplink at the door, against a real browser (docs/media.md).

The device and Chromium share the test namespace, so their media runs over its loopback interface; an htb
class with a small pfifo (tc, which this kernel has; netem it has not) squeezes only the UDP sent to the
browser's end of the selected ICE pair: the device's media. The browser's receiver then reports loss (RTCP),
the device's bitrate controller lowers the encoder's bitrate under the link's rate, and the picture keeps
moving. Lifting the limit brings the bitrate back up.
"""

import subprocess
import time

import pytest

from polling import poll
from test_buttons import install_pc_probe
from test_call import check_device_media_rises, join, remote_video, ring

SQUEEZE = 0.6  # the limit, as a fraction of what the device sends before it
FLOOR_KBIT = 150  # BitrateController's floor for the 1200 kbit/s default: a link below it cannot carry video

BROWSER_CANDIDATE_JS = """
const done = arguments[arguments.length - 1];
// The call's PeerConnection (the page's chat is a data connection on another one).
const pc = (window.__pcs || []).filter((p) => p.connectionState === 'connected'
  && p.getReceivers().some((r) => r.track && r.track.kind === 'video')).pop();
if (!pc) { done(null); return; }
pc.getStats().then((report) => {
  let pair = null;
  report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId); });
  if (!pair) report.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
  const local = pair && report.get(pair.localCandidateId);
  let bytes = 0;
  report.forEach((s) => { if (s.type === 'inbound-rtp') bytes += s.bytesReceived; });
  done(local ? {address: local.address || local.ip, port: local.port, bytesReceived: bytes} : null);
});
"""


def tc(*args):
    subprocess.run(["tc", *args], check=True, capture_output=True, text=True)


@pytest.fixture
def shaper():
    """Limits UDP to one address:port on lo (the browser's end of the selected ICE pair: what the device
    sends it) to `kbit`; removed afterwards."""
    applied = []

    def limit(address, port, kbit):
        limit.kbit = kbit
        tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10", "r2q", "1000")
        applied.append(True)
        tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit")
        tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:20", "htb",
           "rate", f"{kbit}kbit", "ceil", f"{kbit}kbit")
        tc("qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "pfifo", "limit", "20")
        tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
           "match", "ip", "protocol", "17", "0xff", "match", "ip", "dst", f"{address}/32",
           "match", "ip", "dport", str(port), "0xffff", "flowid", "1:20")

    def lift():
        if applied:
            tc("qdisc", "del", "dev", "lo", "root")
            applied.clear()

    def dropped():
        out = subprocess.run(["tc", "-s", "qdisc", "show", "dev", "lo"], capture_output=True, text=True).stdout
        for block in out.split("qdisc ")[1:]:
            if block.startswith("pfifo 20:"):
                return int(block.split("dropped ")[1].split(",")[0])
        return 0

    limit.lift, limit.dropped = lift, dropped
    try:
        yield limit
    finally:
        lift()


def bitrate(device):
    call = device.state()["call"]
    return call and call["videoBitrateKbps"]


# Noise for a test picture: every frame costs the whole bitrate, as a busy street does (the default bouncing
# ball compresses to a tenth of it, and would leave nothing to squeeze).
@pytest.mark.device_args("--knocks-need-answer", "false", "--test-pattern", "snow")
def test_device_lowers_its_bitrate_on_a_thin_link_and_recovers(device, browser, shaper):
    if subprocess.run(["which", "tc"], capture_output=True).returncode != 0:
        pytest.fail("tc not found: install iproute2 (scripts/deps.sh test does)")
    install_pc_probe(browser)
    join(browser, ring(device))
    check_device_media_rises(device)
    ceiling = bitrate(device)
    assert ceiling and ceiling >= 1000, device.state()["call"]

    candidate = poll(lambda: browser.execute_async_script(BROWSER_CANDIDATE_JS), 5,
                     message="the page's getStats() shows no selected candidate pair")
    # What the device really sends (a test picture compresses far below the configured bitrate) ...
    started = time.monotonic()
    time.sleep(3)  # a measuring window, not a wait for a condition
    after = browser.execute_async_script(BROWSER_CANDIDATE_JS)
    sending_kbit = (after["bytesReceived"] - candidate["bytesReceived"]) * 8 / 1000 / (time.monotonic() - started)
    assert sending_kbit > 50, f"the device sends only {sending_kbit:.0f} kbit/s before the squeeze"
    # ... and a link that carries less than half of it.
    limit = max(FLOOR_KBIT + 30, int(sending_kbit * SQUEEZE))
    assert limit < sending_kbit, f"the device sends only {sending_kbit:.0f} kbit/s: nothing to squeeze"
    shaper(candidate["address"], candidate["port"], limit)
    # Chromium asks for a keyframe (PLI/FIR) as it starts decoding; webrtcbin hands each request to the
    # encoder as a force-key-unit event, which the device counts. Under loss it may ask again (or repair the
    # frames with retransmissions instead: NACK), so only the count is reported below.
    keyframe_requests_before = device.state()["call"]["keyframeRequests"]
    assert keyframe_requests_before >= 1, f"no keyframe request from the browser: {device.state()['call']}"

    # It settles under what the link carries (AIMD on the receiver reports: a second without a new report
    # is no evidence of a clean link).
    lowered = poll(lambda: (b := bitrate(device)) is not None and b < limit and b, 30, interval=0.5,
                   message=lambda: f"the device kept sending {bitrate(device)} kbit/s through a {shaper.kbit} kbit/s "
                                   f"link ({shaper.dropped()} packets dropped by it): {device.state()['call']}")
    assert shaper.dropped() > 0, "the limit dropped nothing: it did not squeeze the device's media"
    # The picture keeps moving at the lower rate.
    frames = remote_video(browser)["frames"]
    poll(lambda: remote_video(browser)["frames"] > frames + 10, 10,
         message=lambda: f"the browser's picture stopped at {frames} frames on the thin link")

    squeezed = device.state()["call"]
    dropped = shaper.dropped()
    shaper.lift()
    recovered = poll(lambda: (b := bitrate(device)) is not None and b > lowered and b, 30, interval=0.5,
         message=lambda: f"the bitrate stayed at {bitrate(device)} kbit/s after the link cleared "
                         f"(lowered to {lowered} kbit/s)")
    print(f"\ncongestion: device sent {sending_kbit:.0f} kbit/s; link limited to {limit} kbit/s "
          f"({dropped} packets dropped); bitrate {ceiling} → {lowered} kbit/s; keyframe requests "
          f"{keyframe_requests_before} → {squeezed['keyframeRequests']}; after the limit lifted: {recovered} kbit/s")
