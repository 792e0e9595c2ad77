#!/usr/bin/env bash
# Turns Raspberry Pi OS Lite (64-bit; trixie or bookworm) into the intercom appliance: installs the packages,
# checks the Swift toolchain, builds a release binary, packages it (scripts/build-deb.sh) and installs that
# package, which creates the intercom user, lays out the files and enables intercom.service.
#
# Usage: board/raspberrypi/install.sh [options]
#   --root DIR       lay the files into DIR instead of installing the package (for images and tests);
#                    no apt, no user, no systemctl
#   --no-build       use an existing binary instead of building one
#   --binary PATH    the binary to install (default: the static release build)
#   --boot-config    also append config.txt.fragment to /boot/firmware/config.txt (once; a backup is kept)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
root=/
build=1
binary=
boot_config=0

usage() {
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [[ $# -gt 0 ]]; do
    case $1 in
        --root) root=${2:?--root needs a directory}; shift 2 ;;
        --no-build) build=0; shift ;;
        --binary) binary=${2:?--binary needs a path}; shift 2 ;;
        --boot-config) boot_config=1; shift ;;
        -h | --help) usage ;;
        *) echo "install.sh: unknown option $1" >&2; usage ;;
    esac
done

step() {
    printf 'install: %s\n' "$*"
}

cd "$repo_root"
static_bin=.build-static/release/intercom
binary=${binary:-$static_bin}

if [[ $root != / ]]; then
    # Staging only: files and modes, nothing that touches this machine.
    if [[ $build -eq 1 ]]; then
        scripts/deps.sh build
        step "building the release binary (static Swift runtime)"
        swift build -c release --static-swift-stdlib --scratch-path .build-static
    fi
    scripts/stage-root.sh "$root" "$binary"
    step "files laid into $root; on a device, the package's postinst creates the user and enables the service"
    exit 0
fi

if [[ $EUID -ne 0 ]]; then
    echo "install.sh: run as root (sudo $0)" >&2
    exit 1
fi

# 1. Packages to build with (the package built below pulls in the run-time ones).
scripts/deps.sh build
apt-get install -y -qq dpkg-dev > /dev/null

# 2. Swift: not in apt. deps.sh has already checked it is on PATH or in /opt/swift.
export PATH=$PATH:/opt/swift/usr/bin
if [[ $(dpkg --print-architecture) != arm64 ]]; then
    step "warning: $(dpkg --print-architecture) is not arm64; Swift on a Pi needs the 64-bit Raspberry Pi OS"
fi
step "$(swift --version 2>&1 | head -n 1)"

# 3. Build.
if [[ $build -eq 1 ]]; then
    step "building the release binary (static Swift runtime; a few minutes on a Pi 4)"
    swift build -c release --static-swift-stdlib --scratch-path .build-static
fi

# 4. Package and install: apt resolves the run-time dependencies, and removing or upgrading stays clean.
package=$(scripts/build-deb.sh "$binary" .build-static/deb)
step "installing $package"
apt-get install -y "./$package"

# 5. Boot configuration: KMS display driver, camera detection, audio.
boot=/boot/firmware/config.txt
[[ -f $boot ]] || boot=/boot/config.txt
if [[ $boot_config -eq 1 && -f $boot ]]; then
    if grep -q '^# >>> intercom' "$boot"; then
        step "$boot already has the intercom fragment"
    else
        cp "$boot" "$boot.before-intercom"
        cat board/raspberrypi/config.txt.fragment >> "$boot"
        step "appended board/raspberrypi/config.txt.fragment to $boot (backup: $boot.before-intercom); reboot to apply"
    fi
elif [[ -f $boot ]] && ! grep -q '^dtoverlay=vc4-kms-v3d' "$boot"; then
    step "note: $boot does not load the KMS driver; rerun with --boot-config or add board/raspberrypi/config.txt.fragment"
fi

step "done. Edit /etc/intercom/intercom.yaml (web.base, gpio), then: sudo systemctl restart intercom"
step "check the hardware with: intercom probe; follow the log with: journalctl -u intercom -f"
