#!/usr/bin/env bash
# Lays the intercom's files into a root directory: the binary as /usr/bin/intercom and everything under
# rootfs-overlay/ (the systemd unit, sysusers and udev rules, the default config, the web client) with the
# modes they must have. install.sh stages into / (or --root DIR), build-deb.sh into the package tree.
# Usage: scripts/stage-root.sh ROOT BINARY
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 ROOT BINARY" >&2
    exit 2
fi
root=$1
binary=$2
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
overlay=$repo_root/rootfs-overlay

if [[ ! -x $binary ]]; then
    echo "stage-root: $binary is not an executable; build first (swift build -c release)" >&2
    exit 1
fi

install -d -m 0755 "$root/usr/bin"
install -m 0755 "$binary" "$root/usr/bin/intercom"

# Directories 0755, files 0644; symlinks in the overlay (the default config points into config/) are copied
# as the files they point to, so the device gets real files.
while IFS= read -r -d '' dir; do
    install -d -m 0755 "$root/${dir#"$overlay"/}"
done < <(find "$overlay" -mindepth 1 -type d -print0)
while IFS= read -r -d '' file; do
    install -m 0644 "$file" "$root/${file#"$overlay"/}"
done < <(find "$overlay" -mindepth 1 \( -type f -o -type l \) -print0)

install -d -m 0755 "$root/usr/share/doc/intercom"
install -m 0644 "$repo_root/README.md" "$root/usr/share/doc/intercom/README.md"
install -m 0644 "$repo_root/board/raspberrypi/README.md" "$root/usr/share/doc/intercom/raspberrypi.md"
# The README links into docs/: the pages go along, without their screenshots.
install -d -m 0755 "$root/usr/share/doc/intercom/docs"
install -m 0644 "$repo_root"/docs/*.md "$root/usr/share/doc/intercom/docs/"
