#!/usr/bin/env bash
# Installs what `make build`, `make run` or `make test` needs and is missing.
# Usage: scripts/deps.sh build|run|unit|test|trixie|kernel|kernel-guest
# Idempotent and quick when everything is there: apt is called only for missing packages,
# pip only when suites/requirements.txt changed since the last install.
set -euo pipefail

usage() {
    echo "usage: $0 build|run|unit|test|trixie|kernel|kernel-guest" >&2
    exit 2
}
[[ $# -eq 1 ]] || usage
set_name=$1

# Headers and libraries Package.swift links against (one system-library target per pkg-config name),
# plus the font the screens are drawn with, and dpkg-shlibdeps for `make deb`.
build_packages=(
    pkg-config libglib2.0-dev
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
    libwebsockets-dev libwebsockets-evlib-glib
    libqrencode-dev libdrm-dev libgpiod-dev libpango1.0-dev libcairo2-dev libyaml-dev libsoup-3.0-dev
    fonts-dejavu-core
    dpkg-dev
)
# What the Swift toolchain in /opt/swift runs and links with (present on a bookworm desktop, absent from a
# minimal trixie system such as the `make test-trixie` chroot): binutils and the C/C++ runtime for linking,
# git for package checkouts, the libraries swift-build and Foundation load.
build_packages+=(binutils g++ libc6-dev git libsqlite3-dev libncurses-dev libxml2-dev uuid-dev zlib1g-dev tzdata)
codename=$(sed -n "s/^VERSION_CODENAME=//p" /etc/os-release)
case $codename in
    # Debian 13 moved ld.gold (the toolchain's linker) out of binutils, and libcurl got the 64-bit time_t name.
    trixie) build_packages+=(binutils-gold libcurl4t64) ;;
    *) build_packages+=(libcurl4) ;;
esac

# GStreamer elements the pipelines load at run time (webrtcbin, nice, x264enc, avdec_h264, alsa, pulse),
# and glib-networking: libsoup's TLS, for https:// notification targets.
run_packages=(
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
    gstreamer1.0-plugins-ugly gstreamer1.0-nice gstreamer1.0-libav gstreamer1.0-tools
    gstreamer1.0-alsa gstreamer1.0-pulseaudio
    glib-networking
)
# Unit tests (`swift test`): the Display tests read the rendered screens back with tesseract and zbarimg; the
# clip recorder's tests and suites/e2e/test_visits.py check the files with gst-discoverer-1.0
# (gstreamer1.0-plugins-base-apps).
unit_packages=(tesseract-ocr zbar-tools gstreamer1.0-plugins-base-apps)
# End-to-end tests: headless Chromium driven by selenium, zbarimg (above) for the QR, ip for the namespace.
# Box tests: shellcheck on every script, systemd-analyze and systemd-sysusers on the unit and user.
# Notify tests: openssl makes the certificate authority the HTTPS receiver uses.
# NAT tests: nftables for the simulated routers, coturn for the STUN/TURN server (its turnserver binary only;
# the test starts it with its own flags, the package's service stays off).
# `make test-trixie` (which CI runs after `make test`): debootstrap makes its Debian 13 chroot.
test_packages=(chromium chromium-driver iproute2 python3 python3-venv shellcheck systemd openssl
    nftables coturn debootstrap)

# `make test-kernel`: the VM (qemu, a static busybox for its initramfs, kmod and cpio to build that), the
# compiler for the out-of-tree vkms and gpio-sim modules, and the tools the guest tests call (gpiod).
kernel_packages=(qemu-system-x86 busybox-static kmod cpio file gcc-12 make xz-utils gpiod)

# `make test-kernel-trixie`: what the VM's guest runs from the trixie chroot besides the door's own libraries
# (installed there by the `unit` set): pytest, the gpiod tools, modprobe and ip.
kernel_guest_packages=(python3-pytest gpiod kmod iproute2)

case $set_name in
    build) packages=("${build_packages[@]}") ;;
    run) packages=("${build_packages[@]}" "${run_packages[@]}") ;;
    # `swift test` alone (the trixie chroot): the Display tests read screens back with tesseract and zbarimg.
    unit) packages=("${build_packages[@]}" "${run_packages[@]}" "${unit_packages[@]}") ;;
    test) packages=("${build_packages[@]}" "${run_packages[@]}" "${unit_packages[@]}" "${test_packages[@]}") ;;
    # `make test-trixie` on the host: debootstrap makes the chroot; the rest is installed inside it.
    trixie) packages=(debootstrap) ;;
    # Inside the trixie chroot (scripts/test-kernel.sh --trixie): the door's run time and the guest's tools.
    kernel-guest) packages=("${build_packages[@]}" "${run_packages[@]}" "${unit_packages[@]}" "${kernel_guest_packages[@]}") ;;
    kernel) packages=("${build_packages[@]}" "${run_packages[@]}" "${unit_packages[@]}" "${test_packages[@]}" "${kernel_packages[@]}") ;;
    *) usage ;;
esac

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

step() {
    printf 'deps(%s): %s\n' "$set_name" "$*"
}

sudo_cmd=()
if [[ $EUID -ne 0 ]]; then
    sudo_cmd=(sudo)
fi

# 1. The Swift toolchain does not come from apt.
if swift_bin=$(command -v swift); then
    step "swift: $swift_bin"
elif [[ -x /opt/swift/usr/bin/swift ]]; then
    step "swift: /opt/swift/usr/bin/swift (not on PATH; the Makefile adds /opt/swift/usr/bin)"
else
    echo "deps($set_name): error: no Swift toolchain: 'swift' is not on PATH and /opt/swift/usr/bin does not exist." >&2
    echo "deps($set_name): install Swift 6 for Debian 12 (the release tarball from swift.org) and unpack it into" >&2
    echo "deps($set_name): /opt/swift, or put its usr/bin directory on PATH." >&2
    exit 1
fi

# 2. Debian packages: one dpkg-query for all of them, apt only for what is missing.
declare -A installed=()
while read -r name status; do
    if [[ $status == "install ok installed" ]]; then
        installed[$name]=1
    fi
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null || true)

missing=()
for package in "${packages[@]}"; do
    [[ -n ${installed[$package]:-} ]] || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    step "all ${#packages[@]} Debian packages are installed"
else
    step "installing ${#missing[@]} missing Debian packages: ${missing[*]}"
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}"
    step "installed ${missing[*]}"
fi

# coturn's package may enable and start a system-wide turnserver; the NAT tests run their own inside their
# namespaces, and nothing of ours should listen on the machine's addresses.
if [[ -n ${installed[coturn]:-} || " ${missing[*]:-} " == *" coturn "* ]] \
    && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]] \
    && systemctl is-enabled --quiet coturn.service 2>/dev/null; then
    step "stopping and disabling the coturn service (the tests start turnserver themselves)"
    "${sudo_cmd[@]}" systemctl disable --now coturn.service
fi

# 3. The Python venv for the end-to-end tests.
if [[ $set_name == test || $set_name == kernel ]]; then
    requirements=suites/requirements.txt
    stamp=.venv/.requirements-installed
    if ! .venv/bin/python -c '' 2>/dev/null; then
        step "creating the Python venv .venv"
        rm -rf .venv
        python3 -m venv .venv
    fi
    if [[ $requirements -nt $stamp ]]; then
        step "installing $requirements into .venv"
        .venv/bin/pip install -q --disable-pip-version-check -r "$requirements"
        touch "$stamp"
    else
        step ".venv is up to date with $requirements"
    fi
fi
