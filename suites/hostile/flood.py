"""Strangers on the network, as threads: each dials the door's PeerJS endpoint and does one thing over and
over (with a new socket whenever the door closes the old one) until told to stop."""

import json
import multiprocessing
import socket
import threading
import time

import websocket  # websocket-client (pinned in suites/requirements.txt)

# The most expensive frame shape for a decoder that probes each kind with a thrown error: 64 KiB of `{}`.
WIDE_ARRAY = "[" + ",".join(["{}"] * 21_844) + "]"
WIDE_PAYLOAD = json.dumps({"type": "OFFER", "dst": "nobody", "payload": [{}] * 21_000}, separators=(",", ":"))
assert len(WIDE_ARRAY) <= 65_536 and len(WIDE_PAYLOAD) <= 65_536


def url(port, id, token=None):
    return f"ws://127.0.0.1:{port}/peerjs?key=peerjs&id={id}&token={token or 't' + id}&version=1.5.5"


class Peer:
    """An honest PeerJS peer on the door's server; `recv_type` waits for one frame type."""

    def __init__(self, port, id, token=None, source=None):
        """`source`: another loopback address to come from (127.0.0.2, …): a second host, as the door sees it."""
        self.id = id
        options = {}
        if source is not None:
            sock = socket.socket()
            sock.settimeout(5)
            sock.bind((source, 0))
            sock.connect(("127.0.0.1", port))
            options["socket"] = sock
        self.ws = websocket.create_connection(url(port, id, token), timeout=5, **options)
        self.first = json.loads(self.ws.recv())

    def send(self, message):
        self.ws.send(json.dumps(message))

    def recv_type(self, type_, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            self.ws.settimeout(max(0.01, deadline - time.monotonic()))
            message = json.loads(self.ws.recv())
            if message.get("type") == type_:
                return message

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


class Flood:
    """`sockets` strangers in a process of their own (their CPU use and GIL must not delay the test's own
    measurements), each sending `frames` in a loop, reconnecting whenever the door closes its socket."""

    def __init__(self, port, sockets, frames, name="flood"):
        self.port = port
        self.sockets = sockets
        self.frames = frames
        self.name = name
        self._stop = multiprocessing.Event()
        self._sent = multiprocessing.Value("l", 0)
        self._closed = multiprocessing.Value("l", 0)
        self._process = multiprocessing.get_context("fork").Process(target=self._main, daemon=True)

    @property
    def sent(self):
        return self._sent.value

    @property
    def reconnects(self):
        return self._closed.value

    def _main(self):
        threads = [threading.Thread(target=self._run, args=(f"{self.name}{i}",), daemon=True)
                   for i in range(self.sockets)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _run(self, name):
        n = 0
        while not self._stop.is_set():
            n += 1
            try:
                ws = websocket.create_connection(url(self.port, f"{name}x{n}"), timeout=2)
            except Exception:
                self._stop.wait(0.05)
                continue
            try:
                while not self._stop.is_set():
                    for frame in self.frames:
                        ws.send(frame)
                        with self._sent.get_lock():
                            self._sent.value += 1
            except Exception:
                with self._closed.get_lock():
                    self._closed.value += 1
            finally:
                try:
                    ws.close()
                except Exception:
                    pass

    def __enter__(self):
        self._process.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
