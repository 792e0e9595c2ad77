"""Fixtures for the signaling conformance tests: `intercom signaling-server` on loopback, plain WebSocket
clients (the `websockets` package) speaking the PeerJS wire as docs/signaling.md#frames describes.

No network namespace is needed: nothing here uses ICE, only TCP on 127.0.0.1.
"""

import os
import sys
from pathlib import Path

import pytest

# One `poll` for every suite: the end-to-end tests' (suites/e2e/polling.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))

from peerjs_wire import DEFAULT_BINARY, REPO_ROOT, Peer, SignalingServer


@pytest.fixture
def binary():
    path = Path(os.environ.get("INTERCOM_BIN", REPO_ROOT / DEFAULT_BINARY))
    if not path.exists():
        pytest.fail(f"{path} not found: run `swift build` first (or set INTERCOM_BIN)")
    return path


@pytest.fixture
def start_server(binary, tmp_path, request):
    """start_server(*options) → a running SignalingServer; killed at teardown, its log in failure reports."""
    servers = []

    def start(*options, port=None):
        server = SignalingServer(binary, tmp_path / f"server-{len(servers)}.log", *options, port=port)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.kill()
    if request.node.stash.get(FAILED, False):
        for server in servers:
            print(f"--- {server.log_path} ---\n{server.log_tail()}")


@pytest.fixture
def server(start_server):
    """A server with the official defaults but short timeouts, so the timing tests take seconds."""
    return start_server("--expire_timeout", "600", "--alive_timeout", "1500")


@pytest.fixture
def peers(server):
    """peers(id, token=None, key=...) → a connected Peer on `server`; all closed at teardown."""
    made = []

    def make(id, token=None, **options):
        peer = Peer(server, id, token, **options)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        try:
            peer.close()
        except Exception:
            pass


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report
