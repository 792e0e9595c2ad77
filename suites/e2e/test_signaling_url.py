"""`--signaling` takes PeerServer's URL with or without the `/peerjs` it ends in (the form PeerServer's own docs
show), and a URL the door cannot use gets an error naming the form it wants."""

import subprocess

from conftest import REPO_ROOT
from test_signaling_recovery import open_room, signaling_server  # noqa: F401 — the fixture, used by name

EXPECTED_FORM = "ws[s]://host[:port][/path]"


def test_the_signaling_url_with_the_peerjs_endpoint_registers_the_room(start_device, signaling_server):  # noqa: F811
    server = signaling_server()
    device = start_device("--listen", "off", "--signaling", f"ws://127.0.0.1:{server.port}/peerjs")
    open_room(device)  # both room IDs registered on the external server
    device.wait_for_log(rf"registered on ws://127\.0\.0\.1:{server.port}/\s", timeout=5)


def test_a_signaling_url_with_a_query_is_refused_naming_the_expected_form(tmp_path):
    result = subprocess.run(
        [str(REPO_ROOT / ".build/debug/intercom"), "run", "--listen", "off",
         "--signaling", "ws://127.0.0.1:9/peerjs?key=peerjs&id=door", "--control", str(tmp_path / "c.sock")],
        capture_output=True, text=True, timeout=30)
    assert result.returncode != 0, result
    assert EXPECTED_FORM in result.stderr, result.stderr
