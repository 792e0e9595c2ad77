"""A data-only link whose page vanishes (docs/data-link-liveness.md): the door opens a `ctl connect` link to an
open page, the page keeps it alive, then its whole Chromium is SIGKILLed. Figures: the door's silence from the
page's last message to the link's end as lost (the `data-lost` event's silenceMillis), and from the kill.
Before keepalives nothing ended such a link (a ring link was measured held for 121.7 s, until its room
closed), so there is no baseline row; each kill needs a fresh browser."""

import time


def bench_link_lost(results, device, kills, new_browser, wait_for):
    """`new_browser(label)` starts a bench Browser, `wait_for(fn, timeout, what)` polls (both from run.py)."""
    from test_liveness import kill_browser  # the e2e suite's kill: Chromium and all it started

    silence, after_kill = [], []
    for index in range(kills):
        browser = new_browser(f"link-lost-{index}")
        try:
            browser.driver.get(f"http://localhost:{device.port}/")
            browser.wait_state("ready")
            peer = wait_for(lambda: browser.js("return window.intercomTest.peerId;"), 10, "the page's peer ID")
            device.drain()
            answer = device.control({"cmd": "connect", "peer": peer})
            assert answer.get("ok") is True, answer
            connection_id = answer["connectionId"]
            device.next_event("data-open", timeout=20, match=lambda e: e.get("connectionId") == connection_id)
            # Killed before its first keepalive, a page would leave the link unwatched (as a stock app's is).
            wait_for(lambda: any(link["connectionId"] == connection_id and link["keptAlive"]
                                 for link in device.state()["dataLinks"]), 10, "the page's first keepalive")
            killed_at = kill_browser(browser.driver)
            at, lost = device.next_event("data-lost", timeout=30, match=lambda e: e.get("connectionId") == connection_id)
            silence.append(lost["silenceMillis"])
            after_kill.append(time.time() * 1000 - (time.monotonic() - at) * 1000 - killed_at)
        finally:
            try:
                browser.quit()
            except Exception:  # noqa: BLE001 — a killed browser's driver cannot quit it; only reap chromedriver
                browser.driver.service.stop()
    results.add("link-lost-silence", "killed page: last message → data link lost", "ms", silence,
                "none (held until the room closed)", [])
    results.add("link-lost-kill", "killed page: SIGKILL → data link lost", "ms", after_kill,
                "none (held until the room closed)", [])
