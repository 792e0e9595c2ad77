#!/usr/bin/env bash
# Builds the project and runs `swift test` in a Debian 13 (trixie) chroot, so a change that breaks the
# trixie build (today's Raspberry Pi OS) fails here instead of on a user's Pi.
#
# The chroot is made once with debootstrap from the Debian mirror apt on this machine already uses and kept
# under $INTERCOM_TRIXIE_CACHE (default /var/cache/intercom-trixie/trixie-<arch>). Every run then installs
# what is missing with scripts/deps.sh (the one package list), bind-mounts the Swift toolchain and the
# repository, builds into .build-trixie and runs the unit tests. Needs root (debootstrap, chroot, mount).
# Usage: scripts/test-trixie.sh [--rebuild-chroot]
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
swift_root=${INTERCOM_SWIFT_ROOT:-/opt/swift}
arch=$(dpkg --print-architecture)
cache=${INTERCOM_TRIXIE_CACHE:-/var/cache/intercom-trixie}
root=$cache/trixie-$arch
ready=$root/.intercom-chroot-ready
started=$SECONDS

progress() {
    printf 'test-trixie [%4ds]: %s\n' $((SECONDS - started)) "$*"
}
fail() {
    printf 'test-trixie: error: %s\n' "$*" >&2
    exit 1
}

[[ $EUID -eq 0 ]] || fail "needs root (debootstrap, chroot and bind mounts); run it with sudo"
command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install debootstrap"
[[ -x $swift_root/usr/bin/swift ]] || fail "no Swift toolchain at $swift_root (set INTERCOM_SWIFT_ROOT)"

# The Debian archive apt on this machine uses: the URI of the source that carries this release's main suite
# (deb822 .sources stanzas, or one-line .list entries), so third-party and security sources are skipped.
debian_mirror() {
    local codename file uri
    codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
    for file in /etc/apt/sources.list.d/*.sources; do
        [[ -e $file ]] || continue
        uri=$(awk -v suite="$codename" '
            /^[[:space:]]*$/ { if (hit && first) { print first; found = 1; exit } hit = 0; first = ""; next }
            /^URIs:/ { first = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
            END { if (!found && hit && first) print first }' "$file")
        [[ -n $uri ]] && { echo "$uri"; return; }
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -e $file ]] || continue
        uri=$(awk -v suite="$codename" '$1 == "deb" { for (i = 2; i < NF; i++) if ($i ~ /^[a-z]+:/ && $(i + 1) == suite) { print $i; exit } }' "$file")
        [[ -n $uri ]] && { echo "$uri"; return; }
    done
    echo "http://deb.debian.org/debian"
}

if [[ ${1:-} == --rebuild-chroot ]]; then
    progress "removing the cached chroot $root"
    rm -rf --one-file-system "$root"
elif [[ $# -gt 0 ]]; then
    fail "usage: $0 [--rebuild-chroot]"
fi

if [[ ! -e $ready ]]; then
    mirror=$(debian_mirror)
    progress "creating the trixie chroot in $root from $mirror (once; a few minutes)"
    rm -rf --one-file-system "$root.partial"
    mkdir -p "$cache"
    debootstrap --variant=minbase --include=ca-certificates trixie "$root.partial" "$mirror" \
        > "$cache/debootstrap.log" 2>&1 || {
        tail -n 20 "$cache/debootstrap.log" >&2
        fail "debootstrap failed (whole log: $cache/debootstrap.log)"
    }
    touch "$root.partial/.intercom-chroot-ready"
    mv "$root.partial" "$root"
    progress "chroot created"
else
    progress "using the cached chroot $root"
fi

# Host configuration the chroot needs to reach the network the way the host does: name resolution, any local
# certificate authority (a proxy's), pip's settings and where git finds the Swift packages.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
fi
[[ -e /etc/gitconfig ]] && cp /etc/gitconfig "$root/etc/gitconfig"
# Only what deps.sh names and its dependencies: the recommends (Qt, LLVM, X for the GStreamer plugins) would
# double the first run and test nothing more.
echo 'APT::Install-Recommends "false";' > "$root/etc/apt/apt.conf.d/90intercom-no-recommends"

# Mounts, undone on every exit path (in reverse order).
mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
    done
}
trap cleanup EXIT
bind() {
    local source=$1 target=$root$2
    mkdir -p "$target"
    mount --bind "$source" "$target"
    mounted+=("$target")
}
mkdir -p "$root/proc" "$root/sys" "$root/dev"
mount -t proc proc "$root/proc"
mounted+=("$root/proc")
bind /sys /sys
bind /dev /dev
bind /dev/pts /dev/pts
bind "$swift_root" /opt/swift
bind "$repo_root" /src
# Swift package mirrors that the host's git configuration points at (url.<dir>.insteadOf).
while read -r dir; do
    [[ -d $dir ]] && bind "$dir" "$dir"
done < <(git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null | sed -E 's/^url\.(.*)\.insteadof .*/\1/' | sort -u)

in_chroot() {
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
        PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        bash -c "cd /src && $1"
}

progress "installing packages with scripts/deps.sh unit"
in_chroot 'scripts/deps.sh unit'
# shellcheck disable=SC2016 # expanded inside the chroot
progress "$(in_chroot 'echo "$(. /etc/os-release && echo "$PRETTY_NAME"), libgpiod $(pkg-config --modversion libgpiod), GStreamer $(pkg-config --modversion gstreamer-1.0), libwebsockets $(pkg-config --modversion libwebsockets)"')"
progress "swift build (scratch path .build-trixie)"
in_chroot 'swift build --scratch-path .build-trixie'
progress "swift test (scratch path .build-trixie)"
in_chroot 'swift test --scratch-path .build-trixie'
progress "trixie build and unit tests passed"
