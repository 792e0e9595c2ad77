"""The config file as an installer or a person editing it meets it: `intercom check-config` and
`intercom run --config` accept the shipped default and refuse each broken file in suites/box/configs with
exit status 78 and a message naming the file, the line and the key.

Each broken file says what it expects in its first line (`# expect: KEY`) and marks the offending line
with `# <- error`.
"""

import re
import subprocess
from pathlib import Path

import pytest

CONFIGS = Path(__file__).parent / "configs"
BROKEN = sorted(CONFIGS.glob("*.yaml"))
EX_CONFIG = 78


def expectation(path):
    lines = path.read_text().splitlines()
    match = re.fullmatch(r"# expect: (\S+)", lines[0])
    assert match, f"{path.name} must start with '# expect: KEY'"
    marked = [number for number, line in enumerate(lines, start=1) if "# <- error" in line]
    assert len(marked) == 1, f"{path.name} must mark exactly one line with '# <- error'"
    key = match.group(1)
    return (None if key == "(syntax)" else key), marked[0]


def check_config(intercom_bin, path):
    return subprocess.run([intercom_bin, "check-config", str(path)], capture_output=True, text=True, timeout=30)


def test_the_shipped_config_passes(intercom_bin, repo_root):
    result = check_config(intercom_bin, repo_root / "config/intercom.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("config/intercom.yaml: OK")


def test_the_corpus_covers_every_section():
    keys = {expectation(path)[0] for path in BROKEN}
    sections = {key.split(".")[0] for key in keys if key}
    assert sections >= {"door", "web", "signaling", "paths", "gpio", "display", "media", "log", "notify", "visits"}


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_a_broken_config_names_its_key_and_line(intercom_bin, path):
    key, line = expectation(path)
    result = check_config(intercom_bin, path)
    assert result.returncode == EX_CONFIG, (result.returncode, result.stdout, result.stderr)
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    expected = f"{path}:{line}: {key}: " if key else f"{path}:{line}: YAML: "
    assert expected in message, message


def test_run_refuses_a_broken_config_before_starting(intercom_bin, tmp_path):
    path = CONFIGS / "resolution_1080p.yaml"
    key, line = expectation(path)
    control = tmp_path / "control.sock"
    result = subprocess.run(
        [intercom_bin, "run", "--config", str(path), "--listen", "127.0.0.1:18080", "--control", str(control)],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == EX_CONFIG
    assert f"{path}:{line}: {key}: 1920x1080 at 30 fps" in result.stderr
    assert not control.exists()


def test_a_missing_file_is_a_config_error(intercom_bin, tmp_path):
    result = check_config(intercom_bin, tmp_path / "absent.yaml")
    assert result.returncode == EX_CONFIG
    assert "absent.yaml: cannot open: No such file or directory" in result.stderr


def test_run_names_the_gpio_chip_key_when_the_chip_is_missing(intercom_bin, repo_root, tmp_path):
    """The shipped config wires four buttons; on a machine without GPIO the start stops at gpio.chip."""
    if list(Path("/dev").glob("gpiochip*")):
        pytest.skip("this machine has GPIO chips")
    path = repo_root / "config/intercom.yaml"
    chip_line = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith("  chip:"))
    result = subprocess.run(
        [intercom_bin, "run", "--config", str(path), "--listen", "127.0.0.1:18080",
         "--control", str(tmp_path / "control.sock")],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == EX_CONFIG
    assert f"{path}:{chip_line}: gpio.chip: no Raspberry Pi GPIO chip (pinctrl-rp1" in result.stderr, result.stderr
    assert "intercom probe gpio" in result.stderr


def test_run_names_an_unreadable_tls_key(intercom_bin, tmp_path):
    """TLS files are checked at start, before libwebsockets (which would only say it failed): the message
    names the file, and nothing is left listening."""
    config = tmp_path / "tls.yaml"
    config.write_text(f"signaling:\n  tls_certificate: {tmp_path}/cert.pem\n  tls_private_key: {tmp_path}/key.pem\n")
    (tmp_path / "cert.pem").write_text("not used: the key is checked too\n")
    control = tmp_path / "control.sock"
    result = subprocess.run(
        [intercom_bin, "run", "--config", str(config), "--listen", "127.0.0.1:18080", "--control", str(control),
         "--snapshots", str(tmp_path / "snapshots"), "--display", "snapshot"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 1, result.stderr
    assert f"cannot read the TLS private key {tmp_path}/key.pem: No such file or directory" in result.stderr, \
        result.stderr
