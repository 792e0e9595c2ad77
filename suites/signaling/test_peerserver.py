"""`intercom signaling-server` behaves like the official PeerServer, item by item of
docs/signaling.md#the-built-in-server, checked with plain WebSocket clients on loopback."""

import json
import re
import socket
import time
import base64
import os

import pytest
from websockets.exceptions import InvalidHandshake

from peerjs_wire import Peer
from polling import poll

OFFER_PAYLOAD = {"sdp": {"type": "offer", "sdp": "v=0\r\n"}, "type": "media", "connectionId": "mc_abc"}


def test_registration_gets_open(peers):
    assert peers("alice").recv() == {"type": "OPEN"}


@pytest.mark.parametrize("missing", ["id", "token", "key"])
def test_missing_parameters_get_an_error_and_a_close(server, missing):
    values = {"id": "alice", "token": "t1", "key": "peerjs"}
    values[missing] = None
    peer = Peer.__new__(Peer)
    peer.id = "anonymous"
    from websockets.sync.client import connect
    peer.ws = connect(server.url(**values), open_timeout=5, ping_interval=None, legacy=True)
    assert peer.recv() == {"type": "ERROR", "payload": {"msg": "No id, token, or key supplied to websocket server"}}
    peer.closed_by_server()


def test_a_wrong_key_gets_an_error_and_a_close(peers):
    peer = peers("alice", key="wrong")
    assert peer.recv() == {"type": "ERROR", "payload": {"msg": "Invalid key provided"}}
    peer.closed_by_server()


def test_another_token_gets_id_taken_the_same_token_reattaches_without_open(peers):
    first = peers("alice", token="one")
    assert first.recv() == {"type": "OPEN"}
    thief = peers("alice", token="two")
    assert thief.recv() == {"type": "ID-TAKEN", "payload": {"msg": "ID is taken"}}
    thief.closed_by_server()

    again = peers("alice", token="one")
    bob = peers("bob")
    assert bob.recv() == {"type": "OPEN"}
    bob.send({"type": "OFFER", "dst": "alice", "payload": OFFER_PAYLOAD})
    # The re-attached socket gets no OPEN: the first frame it sees is bob's offer.
    assert again.recv() == {"type": "OFFER", "src": "bob", "dst": "alice", "payload": OFFER_PAYLOAD}
    # The replaced socket is closed by the server.
    first.closed_by_server()


def test_forwarding_overwrites_src_and_keeps_only_the_wire_fields(peers):
    alice, bob = peers("alice"), peers("bob")
    assert alice.recv()["type"] == "OPEN" and bob.recv()["type"] == "OPEN"
    payload = {"candidate": {"candidate": "candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host", "sdpMid": "0",
                             "sdpMLineIndex": 0}, "type": "media", "connectionId": "mc_abc", "x": [1, {"y": None}]}
    alice.send({"type": "CANDIDATE", "src": "mallory", "dst": "bob", "payload": payload, "extra": 1, "browser": "x"})
    assert bob.recv() == {"type": "CANDIDATE", "src": "alice", "dst": "bob", "payload": payload}
    for kind in ("ANSWER", "LEAVE", "EXPIRE"):
        alice.send({"type": kind, "dst": "bob", "payload": {"n": kind}})
        assert bob.recv() == {"type": kind, "src": "alice", "dst": "bob", "payload": {"n": kind}}


def test_unknown_types_and_garbage_are_ignored_and_heartbeats_not_answered(peers):
    alice, bob = peers("alice"), peers("bob")
    assert alice.recv()["type"] == "OPEN" and bob.recv()["type"] == "OPEN"
    for frame in ["not json", "[1,2]", '{"type":"HELLO","dst":"bob"}', '{"dst":"bob"}', '{"type":"HEARTBEAT"}',
                  "[" * 5000 + "]" * 5000]:
        alice.send(frame)
    alice.send({"type": "OFFER", "dst": "bob", "payload": OFFER_PAYLOAD})
    # bob's next frame is the offer: nothing of the junk was forwarded; alice's next frame is bob's reply,
    # so nothing (no error, no HEARTBEAT reply) came back to her.
    assert bob.recv()["type"] == "OFFER"
    bob.send({"type": "ANSWER", "dst": "alice", "payload": {"ok": True}})
    assert alice.recv() == {"type": "ANSWER", "src": "bob", "dst": "alice", "payload": {"ok": True}}


def test_messages_for_an_absent_peer_are_queued_and_delivered_after_open(peers):
    alice = peers("alice")
    assert alice.recv()["type"] == "OPEN"
    alice.send({"type": "OFFER", "dst": "late", "payload": OFFER_PAYLOAD})
    alice.send({"type": "CANDIDATE", "dst": "late", "payload": {"n": 2}})
    late = peers("late")
    assert late.recv() == {"type": "OPEN"}
    assert late.recv() == {"type": "OFFER", "src": "alice", "dst": "late", "payload": OFFER_PAYLOAD}
    assert late.recv() == {"type": "CANDIDATE", "src": "alice", "dst": "late", "payload": {"n": 2}}


def test_expire_after_the_expire_timeout(peers):
    # The fixture's server runs with --expire_timeout 600.
    alice = peers("alice")
    assert alice.recv()["type"] == "OPEN"
    sent = time.monotonic()
    alice.send({"type": "OFFER", "dst": "nobody", "payload": OFFER_PAYLOAD})
    alice.send({"type": "CANDIDATE", "dst": "nobody", "payload": {"n": 2}})
    assert alice.recv(timeout=5) == {"type": "EXPIRE", "src": "nobody", "dst": "alice"}
    waited = time.monotonic() - sent
    assert 0.6 <= waited, f"EXPIRE after {waited:.2f} s, before the 0.6 s expire timeout"
    # One EXPIRE per (sender, absent id): the next frame alice sees is a fresh message, not a second EXPIRE.
    bob = peers("bob")
    assert bob.recv()["type"] == "OPEN"
    bob.send({"type": "ANSWER", "dst": "alice", "payload": {}})
    assert alice.recv()["type"] == "ANSWER"
    # LEAVE and EXPIRE for an absent peer are dropped, not queued: they never come back as EXPIRE.
    alice.send({"type": "LEAVE", "dst": "ghost"})
    later = peers("ghost")
    assert later.recv() == {"type": "OPEN"}
    bob.send({"type": "ANSWER", "dst": "ghost", "payload": {}})
    assert later.recv()["src"] == "bob"


def test_a_client_without_heartbeats_is_dropped_after_the_alive_timeout(peers, server):
    # --alive_timeout 1500: the silent client is closed; one that sends HEARTBEAT every 300 ms stays.
    silent, beating = peers("silent"), peers("beating")
    assert silent.recv()["type"] == "OPEN" and beating.recv()["type"] == "OPEN"
    started = time.monotonic()
    closed = []

    def silent_closed():
        beating.send({"type": "HEARTBEAT"})
        try:
            silent.ws.recv(timeout=0.3)
        except TimeoutError:
            return False
        except Exception:
            closed.append(time.monotonic() - started)
            return True
        return False

    poll(silent_closed, 5, interval=0.0, message="the silent client was never dropped")
    assert closed[0] >= 1.4, f"dropped after {closed[0]:.2f} s, before the 1.5 s alive timeout"
    # Its ID is free for anyone now; the beating client is still registered and reachable.
    assert peers("silent", token="new").recv() == {"type": "OPEN"}
    other = peers("other")
    assert other.recv()["type"] == "OPEN"
    other.send({"type": "OFFER", "dst": "beating", "payload": OFFER_PAYLOAD})
    assert beating.recv_type("OFFER")["src"] == "other"


def test_leave_is_sent_when_the_destination_socket_is_dead(start_server):
    """A registered client that stopped reading is dead: the server drops it and tells the sender LEAVE.
    (The default alive timeout here: filling the buffers takes longer than the fixture's 1.5 s. No per-socket
    budget: filling them takes megabytes at once, which the default budget of 128 KiB/s would cut off.)"""
    server = start_server("--no-budget")
    stuck = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    path = server.url(id="stuck", token="t").split(f":{server.port}", 1)[1]
    stuck.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    stuck.settimeout(5)
    assert stuck.recv(4096).startswith(b"HTTP/1.1 101"), "no WebSocket upgrade"
    try:
        alice = Peer(server, "alice")
        assert alice.recv()["type"] == "OPEN"
        padding = "x" * 60_000
        leave = None
        for i in range(1000):
            alice.send({"type": "OFFER", "dst": "stuck", "payload": {"connectionId": f"mc_{i}", "pad": padding}})
            try:
                leave = alice.recv(timeout=0.01)
                break
            except TimeoutError:
                pass
        if leave is None:
            leave = alice.recv(timeout=5)
        assert leave == {"type": "LEAVE", "src": "stuck", "dst": "alice"}
        # The dead client is unregistered: its ID can be taken with another token.
        assert Peer(server, "stuck", token="fresh").recv() == {"type": "OPEN"}
    finally:
        stuck.close()


def test_oversized_frames_close_the_socket(peers):
    alice = peers("alice")
    assert alice.recv()["type"] == "OPEN"
    alice.send({"type": "HEARTBEAT", "pad": "x" * 70_000})
    assert alice.closed_by_server() == 1009


def test_concurrent_limit(start_server):
    server = start_server("--concurrent_limit", "2")
    a, b = Peer(server, "a"), Peer(server, "b")
    assert a.recv()["type"] == "OPEN" and b.recv()["type"] == "OPEN"
    c = Peer(server, "c")
    assert c.recv() == {"type": "ERROR", "payload": {"msg": "Server has reached its concurrent user limit"}}
    c.closed_by_server()
    # Re-attaching an existing ID is not a new registration.
    a_again = Peer(server, "a")
    b.send({"type": "OFFER", "dst": "a", "payload": OFFER_PAYLOAD})
    assert a_again.recv()["src"] == "b"


def test_http_id_for_any_key_and_peers_only_with_discovery(server, peers, start_server):
    status, content_type, body = server.http("/peerjs/id?ts=123&version=1.5.5")
    assert status == 200 and content_type.startswith("text/html")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", body), body
    assert server.http("/another-key/id")[0] == 200
    assert server.http("/peerjs/peers")[0] == 401

    open_server = start_server("--allow_discovery")
    alice, bob = Peer(open_server, "alice"), Peer(open_server, "bob")
    assert alice.recv()["type"] == "OPEN" and bob.recv()["type"] == "OPEN"
    status, content_type, body = open_server.http("/peerjs/peers")
    assert status == 200 and content_type.startswith("application/json")
    assert sorted(json.loads(body)) == ["alice", "bob"]
    assert json.loads(open_server.http("/")[2])["name"] == "PeerJS Server"


def test_path_and_key_options(start_server):
    server = start_server("--path", "/myapp/", "--key", "door")
    peer = Peer(server, "alice", key="door")
    assert peer.recv() == {"type": "OPEN"}
    assert server.http("/myapp/door/id")[0] == 200
    server.path = "/"
    with pytest.raises(InvalidHandshake):
        Peer(server, "bob", key="door")
