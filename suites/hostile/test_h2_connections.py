"""H2: idle sockets from one address cannot use up the door's server, and the door's own clients never
compete with strangers for places.

Before issue 19 every socket was taken (the official server's 5,000-ID limit only): about 1,000 idle
registered WebSockets exhausted the descriptors under systemd's default limit. Here 60 idle sockets from
127.0.0.1 are opened; at most 32 are taken, the door's room still registers its IDs (its clients come from
127.0.0.1 too, but are not counted), `ctl state` answers within 200 ms, and everything comes back.
"""

import json

import websocket

from flood import url
from polling import poll

PER_ADDRESS = 32


def test_one_address_gets_a_bounded_number_of_sockets(door):
    fds_before = door.open_fds()
    opened, refused = [], 0
    for i in range(60):
        try:
            ws = websocket.create_connection(url(door.port, f"idle{i}"), timeout=5)
            first = json.loads(ws.recv())
        except Exception:
            refused += 1
            continue
        if first == {"type": "OPEN"}:
            opened.append(ws)
        else:
            refused += 1
            ws.close()
    took, _ = door.timed_state()
    print(f"H2: 60 idle sockets from one address: {len(opened)} registered, {refused} refused; "
          f"ctl state {took * 1000:.0f} ms; descriptors {fds_before} → {door.open_fds()}")
    assert len(opened) <= PER_ADDRESS
    assert refused >= 60 - PER_ADDRESS
    assert took < 0.2
    # The door's own clients still get in, from the same address.
    room = door.ring()
    for peer_id in (room["peerId"], room["knockPeerId"]):
        poll(lambda: f"{peer_id} registered on" in door.log_text(), 10, message=f"{peer_id} never registered")
    for ws in opened:
        ws.close()
    # A place freed is a place for the next stranger.
    def registers():
        try:
            ws = websocket.create_connection(url(door.port, "after"), timeout=5)
        except Exception:
            return False
        try:
            return json.loads(ws.recv()) == {"type": "OPEN"}
        except Exception:
            return False
        finally:
            ws.close()

    poll(registers, 10, interval=0.2, message="no socket was taken after the others closed")
    assert door.control({"cmd": "hangup"})["ok"] is True
    poll(lambda: door.control({"cmd": "state"})["state"]["phase"] == "idle", 10, message="the room did not close")
    poll(lambda: door.open_fds() <= fds_before, 10,
         message=lambda: f"descriptors did not come back: {door.open_fds()} open, {fds_before} before")
