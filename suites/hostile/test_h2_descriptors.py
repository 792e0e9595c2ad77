"""H2, the rest: connections that cost descriptors.

Before: with descriptors used up, libwebsockets kept calling accept (EMFILE) in a loop, a core at 100 %, and
the control socket stopped answering (it needs a descriptor per client too); every plain TCP or HTTP
connection was taken, however many came from one address. Now lws holds at most the descriptor limit less a
reserve and stops polling its listener at that point, and each address may hold 64 connections (refused as
they are accepted, before any request or handshake).

The door runs with RLIMIT_NOFILE 256 (as `prlimit` would set it); strangers on ten other loopback addresses
open 400 idle TCP connections. Two honest peers connected beforehand keep relaying, `ctl state` answers within
200 ms, the watchdog is fed, the log does not flood, and once the strangers leave, new connections are taken
and the descriptors come back.
"""

import socket
import time

from flood import Peer
from polling import poll

NOFILE = 256
PER_ADDRESS = 64


def open_idle(source, port, count):
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.settimeout(2)
        s.bind((source, 0))
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        sockets.append(s)
    return sockets


def closed_by_door(sockets):
    closed = 0
    for s in sockets:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


def test_out_of_descriptors_the_door_pauses_accepting_and_keeps_serving(start_door):
    door = start_door(nofile=NOFILE)
    a, b = Peer(door.port, "honest-a"), Peer(door.port, "honest-b")
    fds_before = door.open_fds()
    log_lines_before = len(door.log_text().splitlines())
    started = time.monotonic()
    strangers = []
    try:
        for host in range(10):
            strangers += open_idle(f"127.0.1.{host + 1}", door.port, 40)
        state_times, worst_relay = [], 0.0
        for n in range(10):
            took, _ = door.timed_state()
            state_times.append(took)
            sent = time.monotonic()
            a.send({"type": "CANDIDATE", "dst": "honest-b", "payload": {"n": n}})
            assert b.recv_type("CANDIDATE", timeout=5)["payload"] == {"n": n}
            worst_relay = max(worst_relay, time.monotonic() - sent)
        fds_during = door.open_fds()
        gap = door.watchdog.longest_gap(started)
        log_lines = len(door.log_text().splitlines()) - log_lines_before
        print(f"H2: {len(strangers)} idle connections from 10 addresses, RLIMIT_NOFILE {NOFILE}: descriptors "
              f"{fds_before} → {fds_during}; ctl state worst {max(state_times) * 1000:.0f} ms; relay worst "
              f"{worst_relay * 1000:.0f} ms; watchdog gap {gap:.1f} s; {log_lines} log lines")
        assert fds_during < NOFILE
        # As in the H1 test: a shared machine may deschedule the door for a moment, so one late answer (under
        # 1 s) is allowed; before, the control socket did not answer at all.
        assert len([t for t in state_times if t >= 0.2]) <= 1, state_times
        assert max(state_times) < 1.0, state_times
        assert worst_relay < 1.0
        assert gap < 5.0
        assert log_lines < 100
    finally:
        for s in strangers:
            s.close()
    # Once they are gone, a new peer gets in and the descriptors come back.
    poll(lambda: door.open_fds() <= fds_before + 2, 30,
         message=lambda: f"descriptors did not come back: {door.open_fds()} open, {fds_before} before")
    c = Peer(door.port, "after", source="127.0.0.3")
    assert c.first == {"type": "OPEN"}
    for p in (a, b, c):
        p.close()


def test_one_address_holds_a_bounded_number_of_connections(door):
    held = open_idle("127.0.0.5", door.port, 100)
    try:
        # Those over the cap are closed as they are accepted; the rest stay open (until lws's idle timeout).
        closed = poll(lambda: (lambda n: n if n >= len(held) - PER_ADDRESS else None)(closed_by_door(held)), 4,
                      interval=0.1, message=lambda: f"only {closed_by_door(held)} of {len(held)} were closed")
        print(f"H2: 100 idle TCP connections from one address: {closed} closed at once, the rest held")
        assert len(held) - closed <= PER_ADDRESS
        # Another address is not affected.
        assert Peer(door.port, "other", source="127.0.0.6").first == {"type": "OPEN"}
    finally:
        for s in held:
            s.close()
