"""What an installer leaves on a device: the overlay staged into a temporary root (install.sh --root) has
the files with their modes, the unit passes `systemd-analyze verify`, the sysusers file creates the user in
the right groups, every script is shellcheck-clean, and the .deb builds with its dependencies listed."""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

UNIT = "usr/lib/systemd/system/intercom.service"

EXPECTED_FILES = {
    # path in the root: mode
    "usr/bin/intercom": 0o755,
    UNIT: 0o644,
    "usr/lib/sysusers.d/intercom.conf": 0o644,
    "usr/lib/udev/rules.d/60-intercom.rules": 0o644,
    "etc/intercom/intercom.yaml": 0o644,
    "usr/share/intercom/web/index.html": 0o644,
    "usr/share/doc/intercom/README.md": 0o644,
    "usr/share/doc/intercom/docs/architecture.md": 0o644,
}


def run(*args, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 120)
    return subprocess.run([str(a) for a in args], **kwargs)


@pytest.fixture(scope="module")
def staged_root(repo_root, intercom_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    result = run(repo_root / "board/raspberrypi/install.sh", "--root", root, "--no-build", "--binary", intercom_bin)
    assert result.returncode == 0, result.stderr
    return root


def test_install_into_a_root_lays_out_every_file_with_its_mode(staged_root, repo_root):
    for path, mode in EXPECTED_FILES.items():
        info = (staged_root / path).lstat()
        assert stat.S_ISREG(info.st_mode), f"{path} is not a regular file"
        assert stat.S_IMODE(info.st_mode) == mode, f"{path}: {oct(stat.S_IMODE(info.st_mode))}"
    # The default config arrives as the file itself, not the repository's symlink to it.
    assert (staged_root / "etc/intercom/intercom.yaml").read_bytes() == (repo_root / "config/intercom.yaml").read_bytes()
    # Every file of the overlay is there.
    overlay = repo_root / "rootfs-overlay"
    for source in overlay.rglob("*"):
        if source.is_file():
            assert (staged_root / source.relative_to(overlay)).is_file(), source
    # The web root holds only what the page needs: its documentation is in docs/web.md, not served.
    assert not list((staged_root / "usr/share/intercom/web").rglob("*.md"))
    # The README's links into docs/ resolve on the device.
    for page in (repo_root / "docs").glob("*.md"):
        assert (staged_root / "usr/share/doc/intercom/docs" / page.name).is_file(), page


def test_the_installed_binary_accepts_the_installed_config(staged_root):
    result = run(staged_root / "usr/bin/intercom", "check-config", staged_root / "etc/intercom/intercom.yaml")
    assert result.returncode == 0, result.stderr


def test_the_unit_passes_systemd_analyze_verify(staged_root, tmp_path):
    # systemd-analyze needs the targets the unit orders itself after: give it this machine's.
    root = tmp_path / "root"
    shutil.copytree(staged_root, root, symlinks=True)
    units = root / "usr/lib/systemd/system"
    for unit in Path("/usr/lib/systemd/system").iterdir():
        if not (units / unit.name).exists() and (unit.is_file() or unit.is_symlink()):
            shutil.copy2(unit, units / unit.name, follow_symlinks=False)
    result = run("systemd-analyze", "verify", f"--root={root}", "--man=no", units / "intercom.service")
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", result.stdout + result.stderr

    # The verifier reads every key: a misspelt one and a bad value are reported (so the check above can fail).
    text = (units / "intercom.service").read_text()
    broken = text.replace("WatchdogSec=", "WatchdogSecs=").replace("ProtectSystem=strict", "ProtectSystem=sometimes")
    (units / "broken.service").write_text(broken)
    result = run("systemd-analyze", "verify", f"--root={root}", "--man=no", units / "broken.service")
    assert "Unknown key 'WatchdogSecs'" in result.stderr
    assert "sometimes" in result.stderr


def test_the_unit_asks_for_what_the_appliance_needs(staged_root):
    text = (staged_root / UNIT).read_text()
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings[key] = value
    assert settings["Type"] == "notify"
    assert settings["WatchdogSec"] == "30s"
    assert settings["Restart"] == "on-failure"
    assert settings["RestartPreventExitStatus"] == "78"
    assert settings["User"] == "intercom"
    assert set(settings["SupplementaryGroups"].split()) == {"video", "audio", "gpio", "render"}
    assert settings["ProtectSystem"] == "strict"
    assert settings["ProtectHome"] == "yes"
    assert settings["NoNewPrivileges"] == "yes"
    for directory in ("StateDirectory", "RuntimeDirectory", "ConfigurationDirectory"):
        assert settings[directory] == "intercom"
    assert settings["ExecStart"] == "/usr/bin/intercom run --config /etc/intercom/intercom.yaml"


def test_sysusers_creates_the_user_in_its_groups(staged_root, tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    # A fresh Debian's groups: video and audio exist, render comes from udev, gpio only on Raspberry Pi OS.
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\naudio:x:29:\nvideo:x:44:\nrender:x:105:\n")
    result = run("systemd-sysusers", f"--root={root}", staged_root / "usr/lib/sysusers.d/intercom.conf")
    assert result.returncode == 0, result.stderr
    passwd = {line.split(":")[0]: line.split(":") for line in (root / "etc/passwd").read_text().splitlines()}
    assert passwd["intercom"][5] == "/var/lib/intercom"
    assert int(passwd["intercom"][2]) < 1000  # a system user
    groups = {line.split(":")[0]: line.split(":")[3].split(",") for line in (root / "etc/group").read_text().splitlines()}
    for group in ("video", "audio", "gpio", "render"):
        assert "intercom" in groups[group], (group, groups[group])


SHEBANGS = (b"#!/usr/bin/env bash", b"#!/bin/bash", b"#!/bin/sh")


def scripts(repo_root):
    """Every shell script in the repository (by suffix or shebang), hidden directories and builds aside."""
    found = []
    for path in repo_root.rglob("*"):
        if any(part.startswith(".") for part in path.relative_to(repo_root).parts) or not path.is_file():
            continue
        with open(path, "rb") as f:
            first = f.readline()
        if path.suffix == ".sh" or first.startswith(SHEBANGS):
            found.append(path)
    return sorted(found)


def test_every_shell_script_is_shellcheck_clean(repo_root):
    found = scripts(repo_root)
    names = {p.relative_to(repo_root).as_posix() for p in found}
    assert {"board/raspberrypi/install.sh", "scripts/deps.sh", "scripts/build-deb.sh",
            "scripts/stage-root.sh", "packaging/deb/postinst"} <= names
    ci = repo_root / ".ci/run"
    result = run("shellcheck", "--severity=style", ci, *found)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_script_is_strict(repo_root):
    for path in scripts(repo_root) + [repo_root / ".ci/run"]:
        assert "set -euo pipefail" in path.read_text(), path


def test_the_deb_builds_and_declares_its_dependencies(repo_root, intercom_bin, tmp_path):
    result = run(repo_root / "scripts/build-deb.sh", intercom_bin, tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    package = Path(result.stdout.strip().splitlines()[-1])
    assert re.fullmatch(r"intercom_0\.1\.0(\+\d+\.g[0-9a-f]+)?_[a-z0-9]+\.deb", package.name), package.name

    info = run("dpkg-deb", "--info", package)
    assert info.returncode == 0, info.stderr
    depends = re.search(r"^ Depends: (.*)$", info.stdout, re.M).group(1)
    names = {item.strip().split(" ")[0] for item in depends.split(",")}
    # Linked libraries (from dpkg-shlibdeps) and what is loaded at run time.
    for needed in ("libgstreamer1.0-0", "libwebsockets17", "libgpiod2", "libdrm2", "libqrencode4", "libyaml-0-2",
                   "gstreamer1.0-plugins-bad", "gstreamer1.0-nice", "gstreamer1.0-plugins-ugly",
                   "libwebsockets-evlib-glib", "fonts-dejavu-core", "libsoup-3.0-0", "glib-networking"):
        assert needed in names, (needed, depends)
    for script in ("postinst", "prerm", "postrm", "conffiles"):
        assert f" {script}" in info.stdout

    contents = run("dpkg-deb", "--contents", package).stdout
    for path, mode in EXPECTED_FILES.items():
        permissions = "-rwxr-xr-x" if mode == 0o755 else "-rw-r--r--"
        assert re.search(rf"^{re.escape(permissions)} root/root .* \./{re.escape(path)}$", contents, re.M), path
    assert run("dpkg-deb", "--field", package, "Package").stdout.strip() == "intercom"
    control = tmp_path / "control"
    run("dpkg-deb", "--control", package, control)
    assert (control / "conffiles").read_text().split() == ["/etc/intercom/intercom.yaml"]
