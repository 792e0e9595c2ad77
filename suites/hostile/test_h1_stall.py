"""H1: frames shaped to be expensive to decode must not stall the door's loop.

Eight strangers send 64 KiB frames (`[{},{},…]`, and an OFFER whose payload is that array) as fast as the
door reads them. Meanwhile the door must keep doing its work: the watchdog fed, `ctl state` answered within
200 ms, a frame between two honest peers relayed within 1 s, a new room registering; afterwards memory and
descriptors come back.
"""

import time

from flood import WIDE_ARRAY, WIDE_PAYLOAD, Flood, Peer
from polling import poll

FLOOD_SECONDS = 8.0
STATE_BOUND = 0.200
RELAY_BOUND = 1.0
WATCHDOG_BOUND = 5.0
RSS_BOUND_KIB = 300 * 1024


def test_expensive_frames_do_not_stall_the_loop(door):
    alice, bob = Peer(door.port, "alice"), Peer(door.port, "bob")
    assert alice.first == {"type": "OPEN"} and bob.first == {"type": "OPEN"}
    fds_before, rss_before = door.open_fds(), door.rss_kib()
    state_times, relay_times = [], []
    started = time.monotonic()
    with Flood(door.port, 8, [WIDE_ARRAY, WIDE_PAYLOAD]) as flood:
        poll(lambda: flood.sent > 50, 10, message="the flood never got going")
        room = door.ring()
        i = 0
        rss_peak = 0
        while time.monotonic() - started < FLOOD_SECONDS:
            took, _ = door.timed_state()
            state_times.append(took)
            i += 1
            sent_at = time.monotonic()
            alice.send({"type": "CANDIDATE", "dst": "bob", "payload": {"n": i}})
            while bob.recv_type("CANDIDATE", timeout=10)["payload"] != {"n": i}:
                pass
            relay_times.append(time.monotonic() - sent_at)
            rss_peak = max(rss_peak, door.rss_kib())
            time.sleep(0.1)
        sent, reconnects = flood.sent, flood.reconnects
    gap = door.watchdog.longest_gap(started)
    print(f"H1 flood: {sent} frames of 64 KiB from 8 sockets in {FLOOD_SECONDS:g} s ({reconnects} sockets closed "
          f"by the door); ctl state max {max(state_times) * 1000:.0f} ms (median "
          f"{sorted(state_times)[len(state_times) // 2] * 1000:.0f} ms); relay max {max(relay_times) * 1000:.0f} ms; "
          f"longest watchdog gap {gap:.2f} s; RSS {rss_before} → peak {rss_peak} KiB")
    # The bound holds for nearly every request; a shared CI machine can deschedule the door for a moment
    # whatever it does, so single late answers are allowed up to 1 s (the figures are printed above).
    late = [t for t in state_times if t >= STATE_BOUND]
    assert len(late) <= len(state_times) // 10, state_times
    assert max(state_times) < 1.0, state_times
    assert max(relay_times) < RELAY_BOUND, relay_times
    assert gap < WATCHDOG_BOUND
    assert rss_peak < RSS_BOUND_KIB
    # The room opened under the flood registered both its IDs.
    assert door.control({"cmd": "state"})["state"]["room"]["code"] == room["code"]
    for peer_id in (room["peerId"], room["knockPeerId"]):
        poll(lambda: f"{peer_id} registered on" in door.log_text(), 10,
             message=f"the room's ID {peer_id} never registered")

    alice.close()
    bob.close()
    assert door.control({"cmd": "hangup"})["ok"] is True
    poll(lambda: door.control({"cmd": "state"})["state"]["phase"] == "idle", 10, message="the room did not close")
    poll(lambda: door.open_fds() <= fds_before, 10,
         message=lambda: f"descriptors did not come back: {door.open_fds()} open, {fds_before} before")
