"""PeerJS-wire helpers for the signaling tests: an `intercom signaling-server` process and a plain WebSocket
peer (the `websockets` package)."""

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from polling import poll

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = ".build/debug/intercom"
START_TIMEOUT = 10.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class SignalingServer:
    """One `intercom signaling-server` process."""

    def __init__(self, binary, log_path, *options, port=None):
        self.port = port or free_port()
        self.options = options
        self.binary = binary
        self.log_path = log_path
        self.process = None
        self.path = "/"
        for i, option in enumerate(options):
            if option == "--path":
                self.path = options[i + 1]

    def start(self):
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "signaling-server", "--host", "127.0.0.1", "--port", str(self.port), *self.options],
            cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        poll(lambda: self._check_alive() and _listening(self.port), START_TIMEOUT,
             message=lambda: f"the signaling server never listened on {self.port}\n{self.log_tail()}")
        return self

    def _check_alive(self):
        status = self.process.poll()
        if status is not None:
            pytest.fail(f"the signaling server exited with status {status}\n{self.log_tail()}")
        return True

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def log_tail(self, lines=40):
        text = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        return "\n".join(text[-lines:])

    def url(self, id=None, token=None, key="peerjs"):
        query = "&".join(f"{name}={value}" for name, value in (("key", key), ("id", id), ("token", token))
                         if value is not None)
        return f"ws://127.0.0.1:{self.port}{self.path}peerjs?{query}&version=1.5.5"

    def http(self, path):
        """(status, content type, body) of a GET on the server."""
        import http.client
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type"), response.read().decode()
        finally:
            connection.close()


class Peer:
    """A plain WebSocket client registered (or trying to register) under one ID."""

    def __init__(self, server, id, token=None, key="peerjs", **url_options):
        self.id = id
        self.token = token or f"tok{id}"
        self.ws = connect(server.url(id=id, token=self.token, key=key, **url_options),
                          max_size=None, open_timeout=5, ping_interval=None, legacy=True)

    def send(self, message):
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self, timeout=5.0):
        """The next JSON frame, or raise TimeoutError / ConnectionClosed."""
        return json.loads(self.ws.recv(timeout=timeout))

    def recv_type(self, type_, timeout=5.0):
        """Skips frames until one of `type_` arrives."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv(max(0.01, deadline - time.monotonic()))
            if message.get("type") == type_:
                return message

    def closed_by_server(self, timeout=5.0):
        """Reads until the server closes; returns the close frame's code (None without one)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except TimeoutError:
            pytest.fail(f"the server did not close {self.id}'s socket within {timeout:g} s")
        pytest.fail(f"the server did not close {self.id}'s socket within {timeout:g} s")

    def close(self):
        self.ws.close()
