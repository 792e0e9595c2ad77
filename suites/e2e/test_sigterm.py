"""SIGTERM during a call: the door stops its parts in reverse order (docs/architecture.md#lifecycle).

The caller's page hears the hang-up, the process exits 0 within 2 s, and nothing of the call is left: the
door's own count of live media sessions is 0 at exit, and GStreamer's leak tracer (GST_TRACERS=leaks, which
reports in gst_deinit) lists no GstObject (element, pad, bin, transport) of our pipelines alive.

What the tracer lists for GStreamer itself, checked first: 0 objects for a clean `gst-launch-1.0 videotestsrc
num-buffers=10 ! fakesink`; one `GstDtlsAgent` for a lone dtlsdec taken to READY and back, then unreffed (the
dtls plugin's process-wide agent for its generated certificate, never freed by design). That one is allowed.
Mini objects (queries, buffers) are not GstObjects: they are printed, not asserted (see the report in
docs/architecture.md#lifecycle).
"""

import re
import signal
import time

from polling import poll
from test_call import check_device_media_rises, join, page_test_hooks, ring

STOP_LIMIT_S = 2.0  # the bound for the page's end of the call and for the process's exit

# The leak tracer's own log lines: "object-alive" records (GST_TRACER at TRACE level) and its summary.
LEAK_TRACER_DEBUG = "leaks:7,GST_TRACER:7"

# Alive at gst_deinit in any process that used the dtls plugin (see above).
GSTREAMER_OWN = {"GstDtlsAgent"}


def test_sigterm_during_a_call_hangs_up_exits_0_and_leaves_nothing(start_device, browser, monkeypatch):
    monkeypatch.setenv("GST_TRACERS", "leaks")
    monkeypatch.setenv("GST_DEBUG", LEAK_TRACER_DEBUG)
    monkeypatch.setenv("GST_DEBUG_NO_COLOR", "1")
    device = start_device()
    link = ring(device)
    join(browser, link)
    check_device_media_rises(device)

    sent_at = time.time()
    device.process.send_signal(signal.SIGTERM)
    device.stopped_by = "SIGTERM"
    hooks = poll(lambda: (h := page_test_hooks(browser)) and h.get("endedAt") and h, 10,
                 message=lambda: f"the page never ended the call: {page_test_hooks(browser)}")
    status = device.process.wait(10)
    exited_s = time.time() - sent_at
    page_ms = round(hooks["endedAt"] - sent_at * 1000)
    log = device.log_text()
    print(f"\nSIGTERM in a call: the page ended the call after {page_ms} ms "
          f"(endedBy {hooks.get('endedBy')}, reason {hooks.get('endReason')}); "
          f"the process exited {status} after {exited_s * 1000:.0f} ms")

    assert hooks.get("endReason") == "hangup" and hooks.get("endedBy") == "remote", \
        f"the page did not hear the door hang up: {hooks}"
    assert page_ms < STOP_LIMIT_S * 1000, f"the page heard the hang-up {page_ms} ms after SIGTERM"
    assert status == 0, f"exit status {status}\n{device.log_tail()}"
    assert exited_s < STOP_LIMIT_S, f"the process took {exited_s:.2f} s to exit\n{device.log_tail()}"

    stops = re.findall(r"stopping (.+)$", log, re.MULTILINE)
    live = re.search(r"exit: (\d+) live media sessions?", log)
    assert live, f"no exit line with the live session count\n{device.log_tail()}"
    assert int(live.group(1)) == 0, f"{live.group(0)}\n{device.log_tail()}"

    listed = re.search(r"listed (\d+) alive objects", log)
    assert listed, f"the leak tracer never reported (was gst_deinit reached?)\n{device.log_tail()}"
    alive = re.findall(r"object-alive, type-name=\(string\)(\w+), address=\(gpointer\)0x[0-9a-f]+, "
                       r"description=\(string\)(.)", log)
    # A GstObject's description is its name in angle brackets; a mini object's is its contents.
    objects = [kind for kind, first in alive if first == "<"]
    mini_objects = [kind for kind, first in alive if first != "<"]
    print(f"leak tracer: {listed.group(0)}: GstObjects {objects}, mini objects {mini_objects}; "
          f"stop order in the log: {stops}")
    assert len(alive) == int(listed.group(1)), f"could not read every object-alive record: {alive}"
    leaked = [kind for kind in objects if kind not in GSTREAMER_OWN]
    assert not leaked, f"GstObjects of our pipelines left alive at exit: {leaked}"
