"""State that must survive reboots: the device ID is made once, kept in paths.state/device-id, and the same
on the next start; with no state directory nothing is written."""

import os
import re
import signal
import subprocess

from test_watchdog import DEADLINE, NotifySocket, free_port


def start_once(intercom_bin, tmp_path, state):
    config = tmp_path / "intercom.yaml"
    config.write_text(
        f"signaling:\n  listen: 127.0.0.1:{free_port()}\n"
        f"paths:\n  state: {state}\n  snapshots: {tmp_path}/snapshots\n  control: {tmp_path}/control.sock\n")
    notify = NotifySocket(str(tmp_path / "notify.sock"))
    env = {k: v for k, v in os.environ.items() if k not in ("STATE_DIRECTORY", "WATCHDOG_USEC")}
    env["NOTIFY_SOCKET"] = str(tmp_path / "notify.sock")
    device = subprocess.Popen([intercom_bin, "run", "--config", str(config)], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert notify.receive_until(lambda m: any(f.get("READY") == "1" for _, f in m), DEADLINE)
    finally:
        device.send_signal(signal.SIGTERM)
        _, stderr = device.communicate(timeout=10)
        notify.close()
        (tmp_path / "notify.sock").unlink()
    return stderr


def test_the_device_id_is_made_once_and_kept(intercom_bin, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    first_log = start_once(intercom_bin, tmp_path, state)
    id_file = state / "device-id"
    first = id_file.read_text()
    assert re.fullmatch(r"[0-9a-f]{32}\n", first)
    assert f"device {first.strip()}" in first_log
    assert os.stat(id_file).st_mode & 0o007 == 0
    # No temporary file left beside it (the visit log keeps its own folder there).
    assert sorted(p.name for p in state.iterdir() if not p.is_dir()) == ["device-id"]
    assert sorted(p.name for p in state.iterdir() if p.is_dir()) in ([], ["visits"])

    start_once(intercom_bin, tmp_path, state)
    assert id_file.read_text() == first


def test_a_damaged_device_id_is_replaced(intercom_bin, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "device-id").write_text("")  # what a power cut leaves without write-fsync-rename
    start_once(intercom_bin, tmp_path, state)
    assert re.fullmatch(r"[0-9a-f]{32}\n", (state / "device-id").read_text())


def test_no_state_directory_writes_nothing(intercom_bin, tmp_path):
    state = tmp_path / "absent"
    start_once(intercom_bin, tmp_path, state)
    assert not state.exists()
