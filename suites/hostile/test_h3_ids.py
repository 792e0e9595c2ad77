"""H3: a stranger cannot knock the door's own clients off their IDs and take them.

The attack: one frame of exactly the server's 64 KiB limit sent to the room's ID (the server adds `src`
when it forwards it, so a client with the same limit drops its own socket), then registering that ID with
another token in the moment it is free. Before issue 19 the attacker held the room ID within ~10 ms.
"""

import json
import time

import websocket

from flood import Peer, url
from polling import poll

LIMIT = 65_536


def frame_of_exactly(limit, dst):
    head = json.dumps({"type": "CANDIDATE", "dst": dst, "payload": ""}, separators=(",", ":"))
    pad = limit - len(head)
    text = json.dumps({"type": "CANDIDATE", "dst": dst, "payload": "x" * pad}, separators=(",", ":"))
    assert len(text) == limit
    return text


def try_to_take(port, peer_id):
    """One registration attempt with a stranger's token: the first frame the server sends back."""
    try:
        ws = websocket.create_connection(url(port, peer_id, token="stranger"), timeout=2)
    except Exception as error:
        return f"refused ({error})"
    try:
        return json.loads(ws.recv()).get("type")
    except Exception as error:
        return f"closed ({type(error).__name__})"
    finally:
        ws.close()


def test_a_limit_sized_frame_does_not_drop_the_doors_ids(door):
    room = door.ring()
    for peer_id in (room["peerId"], room["knockPeerId"]):
        poll(lambda: f"{peer_id} registered on" in door.log_text(), 10, message=f"{peer_id} never registered")
    attacker = Peer(door.port, "attacker")
    assert attacker.first == {"type": "OPEN"}
    outcomes = []
    for target in (room["peerId"], room["knockPeerId"]):
        attacker.ws.send(frame_of_exactly(LIMIT, target))
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            outcomes.append(try_to_take(door.port, target))
    print(f"H3: {len(outcomes)} attempts to take the room's IDs after a {LIMIT}-byte frame: "
          f"{ {o: outcomes.count(o) for o in set(outcomes)} }")
    assert "OPEN" not in outcomes, outcomes
    assert "ID-TAKEN" in outcomes
    # The door's clients never lost their sockets; the room is the same one.
    assert "frame over" not in door.log_text()
    assert f"{room['peerId']}: connection to" not in door.log_text()
    assert door.control({"cmd": "state"})["state"]["room"]["code"] == room["code"]
    attacker.close()
