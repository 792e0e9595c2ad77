"""Under systemd, stderr goes to the journal: when JOURNAL_STREAM names the stderr the process has, each
line starts with its syslog priority so `journalctl -p warning` filters by level."""

import os
import re
import subprocess


def test_lines_carry_syslog_priorities_on_the_journal_stream(intercom_bin, tmp_path):
    log_path = tmp_path / "stderr.log"
    with open(log_path, "w") as log:
        info = os.fstat(log.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{info.st_dev}:{info.st_ino}")
        # A signaling URL of the wrong scheme: the device logs at info level, then fails with an error line.
        result = subprocess.run(
            [intercom_bin, "run", "--listen", "off", "--signaling", "ftp://nowhere.invalid/", "--control", str(tmp_path / "c.sock"),
             "--snapshots", str(tmp_path / "snapshots")],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, timeout=30)
    lines = log_path.read_text().splitlines()
    assert result.returncode != 0
    assert any(re.match(r"<6>media: GStreamer \d", line) for line in lines), lines
    assert any(line.startswith("<3>intercom: ") for line in lines), lines
    assert not any(re.match(r"\[\d+\.\d{3}\]", line) for line in lines), lines


def test_plain_timestamped_lines_elsewhere(intercom_bin, tmp_path):
    result = subprocess.run(
        [intercom_bin, "run", "--listen", "off", "--signaling", "ftp://nowhere.invalid/", "--control", str(tmp_path / "c.sock"),
         "--snapshots", str(tmp_path / "snapshots")],
        env={k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert any(re.match(r"\[\d+\.\d{3}\] error intercom: ", line) for line in result.stderr.splitlines()), result.stderr
