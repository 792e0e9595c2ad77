"""The stand-alone `intercom signaling-server` budgets each WebSocket as the door's built-in server does
(50 frames/s, burst 200; 128 KiB/s, burst 512 KiB by default; `--frames-per-second`, `--frame-burst`,
`--kib-per-second`, `--kib-burst`, `--no-budget`). Before, it had none: one client could send as fast as it
liked. A client sending 1,000 frames at once is closed, two honest peers keep relaying, and with a larger
budget given on the command line the same burst goes through.
"""

import json
import signal
import subprocess
import time

import pytest
import websocket

from conftest import free_port
from flood import Peer, url
from polling import poll

BURST = 1_000


@pytest.fixture
def start_server(binary, tmp_path):
    servers = []

    def start(*options):
        port = free_port()
        log = open(tmp_path / f"server-{len(servers)}.log", "wb")
        process = subprocess.Popen([str(binary), "signaling-server", "--host", "127.0.0.1", "--port", str(port),
                                    *options], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        servers.append((process, log))

        def answers():
            assert process.poll() is None, (tmp_path / f"server-{len(servers) - 1}.log").read_text()
            try:
                Peer(port, f"probe{time.monotonic_ns()}").close()
                return True
            except OSError:
                return False

        poll(answers, 10, interval=0.1, message="the signaling server never answered")
        return port

    yield start
    for process, log in servers:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def burst(port, name):
    """Sends BURST small frames at once; returns how many went out before the server closed the socket and
    whether it did (a frame echoed back to ourselves over the server proves the socket still works)."""
    ws = websocket.create_connection(url(port, name), timeout=5)
    assert json.loads(ws.recv()) == {"type": "OPEN"}
    sent = 0
    try:
        for n in range(BURST):
            ws.send(json.dumps({"type": "CANDIDATE", "dst": name, "payload": {"n": n}}))
            sent += 1
        ws.send(json.dumps({"type": "CANDIDATE", "dst": name, "payload": {"n": "last"}}))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = json.loads(ws.recv())
            if message.get("payload", {}).get("n") == "last":
                return sent, False
    except (websocket.WebSocketConnectionClosedException, ConnectionError, BrokenPipeError):
        return sent, True
    finally:
        ws.close()
    pytest.fail("neither closed nor relayed")


def test_one_client_over_its_budget_is_closed_and_others_carry_on(start_server):
    port = start_server()
    a, b = Peer(port, "honest-a"), Peer(port, "honest-b")
    sent, closed = burst(port, "flooder")
    a.send({"type": "CANDIDATE", "dst": "honest-b", "payload": {"n": 1}})
    relayed = b.recv_type("CANDIDATE", timeout=5)
    print(f"signaling-server: a burst of {BURST} frames: closed {closed} after {sent} sent; honest relay ok")
    assert closed
    assert relayed["payload"] == {"n": 1}
    a.close()
    b.close()


def test_the_budget_is_set_on_the_command_line(start_server):
    port = start_server("--frames-per-second", "2000", "--frame-burst", "5000")
    sent, closed = burst(port, "busy")
    assert sent == BURST and not closed
