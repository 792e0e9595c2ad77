"""L1–L6: what the door's web server, control socket and config reader refuse.

Each test fails on the code before issue 19: symlinks followed out of the web root, a FIFO that froze the
loop, HEAD answered with a body, no CSP header, WebSocket upgrades from any page's origin, deep nesting that
held the control socket or the config reader for seconds, a FIFO as the config file that hung check-config.
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import time

import pytest
import websocket

from conftest import WEB_ROOT
from polling import poll


def get(door, path, method="GET", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", door.port, timeout=5)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def web_root(tmp_path):
    root = tmp_path / "web"
    shutil.copytree(WEB_ROOT, root)
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the web root\n")
    os.symlink(secret, root / "leak.txt")
    os.symlink(tmp_path, root / "up")
    os.mkfifo(root / "fifo.txt")
    return root


def test_symlinks_and_fifos_in_the_web_root_are_not_served(start_door, web_root):
    door = start_door("--web-root", str(web_root))
    assert get(door, "/leak.txt")[0] == 404
    assert get(door, "/up/secret.txt")[0] == 404
    # A FIFO is refused at once rather than blocking the loop until someone writes to it.
    started = time.monotonic()
    assert get(door, "/fifo.txt")[0] == 404
    took, _ = door.timed_state()
    print(f"L1: FIFO refused in {time.monotonic() - started:.3f} s; ctl state then {took * 1000:.0f} ms")
    assert took < 0.2
    assert get(door, "/")[0] == 200


def test_head_has_no_body_and_pages_carry_csp_with_frame_ancestors(door):
    status, headers, body = get(door, "/")
    assert status == 200 and body
    headers = {k.lower(): v for k, v in headers.items()}
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), headers
    status, head_headers, head_body = get(door, "/", method="HEAD")
    assert status == 200 and head_body == b""
    assert {k.lower(): v for k, v in head_headers.items()}.get("content-length") == str(len(body))
    # The connection is still good for the next request.
    assert get(door, "/config.json")[0] == 200


def test_websocket_origin_is_checked_on_the_doors_own_server(start_door, tmp_path):
    config = tmp_path / "door.yaml"
    config.write_text("signaling:\n  allowed_origins:\n    - https://pages.example.org:8443\n")
    door = start_door("--config", str(config))
    url = f"ws://127.0.0.1:{door.port}/peerjs?key=peerjs&id=page1&token=t&version=1.5.5"

    def opens(origin):
        try:
            ws = websocket.create_connection(url, timeout=5, **({"origin": origin} if origin else {}))
        except (websocket.WebSocketBadStatusException, websocket.WebSocketConnectionClosedException,
                ConnectionError):
            return False  # refused during the handshake
        try:
            return json.loads(ws.recv()) == {"type": "OPEN"}
        finally:
            ws.close()

    assert not opens("https://evil.example")
    assert opens("https://pages.example.org:8443")
    assert opens(f"http://127.0.0.1:{door.port}")  # the door's own page
    assert opens(None)  # not a browser: no Origin


def test_deep_control_requests_fail_fast(door):
    deep = "[" * 500 + "]" * 500
    started = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(door.control_path))
        s.sendall(('{"cmd":"state","x":' + deep + "}\n").encode())
        reply = s.makefile("rb").readline()
    took = time.monotonic() - started
    print(f"L5: 500-deep control request refused in {took * 1000:.0f} ms")
    assert json.loads(reply)["ok"] is False
    assert took < 0.2
    assert door.timed_state()[0] < 0.2


def test_deep_or_fifo_config_files_are_refused_fast(binary, tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("door: " + "[" * 50_000 + "]" * 50_000 + "\n")
    started = time.monotonic()
    result = subprocess.run([str(binary), "check-config", str(deep)], capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    print(f"L5: 50,000-deep YAML refused in {took:.2f} s")
    assert result.returncode == 78 and "nested deeper" in result.stdout + result.stderr
    assert took < 5

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    result = subprocess.run([str(binary), "check-config", str(fifo)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 78 and "not a regular file" in result.stdout + result.stderr
