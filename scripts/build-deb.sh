#!/usr/bin/env bash
# Builds the intercom Debian package with dpkg-deb: the binary, rootfs-overlay/ and the maintainer scripts
# in packaging/deb/ (which create the intercom user and enable the service). Depends: the shared
# libraries the binary links (dpkg-shlibdeps) plus the GStreamer plugins and the font it loads at run time.
# Usage: scripts/build-deb.sh BINARY OUTPUT_DIR      (make deb runs it with a static-stdlib release build)
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BINARY OUTPUT_DIR" >&2
    exit 2
fi
binary=$(realpath "$1")
output=$2
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Loaded at run time, so no linker sees them: GStreamer elements (webrtcbin, nice, x264enc, opus, avdec_h264,
# alsasrc/alsasink), libwebsockets' GLib event-loop plugin, the font the screens are drawn with, and GIO's
# TLS module (glib-networking) that libsoup needs for https:// notification targets.
runtime_depends=(
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
    gstreamer1.0-nice gstreamer1.0-libav gstreamer1.0-alsa libwebsockets-evlib-glib fonts-dejavu-core
    glib-networking
)
# Pi cameras through libcamera; `intercom probe` tells when they are missing.
recommends=(gstreamer1.0-libcamera)

if ldd "$binary" | grep -q 'libswiftCore'; then
    echo "build-deb: warning: $binary links the Swift runtime dynamically; the package then needs the same" >&2
    echo "build-deb: warning: Swift toolchain on the device. make deb builds with --static-swift-stdlib." >&2
fi

version=0.1.0
if git -C "$repo_root" rev-parse --git-dir > /dev/null 2>&1; then
    version="0.1.0+$(git -C "$repo_root" rev-list --count HEAD).g$(git -C "$repo_root" rev-parse --short=8 HEAD)"
fi
arch=$(dpkg --print-architecture)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/intercom
"$repo_root/scripts/stage-root.sh" "$tree" "$binary"

# Shared-library dependencies, as Debian's own packages compute them.
mkdir -p "$work/debian" "$tree/DEBIAN"
printf 'Source: intercom\n\nPackage: intercom\nArchitecture: any\n' > "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e "$tree/usr/bin/intercom" 2> /dev/null)
shlibs=${shlibs#shlibs:Depends=}
if [[ -z $shlibs ]]; then
    echo "build-deb: dpkg-shlibdeps found no library dependencies for $binary" >&2
    exit 1
fi

depends=$shlibs
for package in "${runtime_depends[@]}"; do
    depends+=", $package"
done
installed_size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)

cat > "$tree/DEBIAN/control" <<CONTROL
Package: intercom
Version: $version
Architecture: $arch
Maintainer: intercom developers <intercom@localhost>
Section: net
Priority: optional
Installed-Size: $installed_size
Depends: $depends
Recommends: ${recommends[*]}
Description: video intercom for a front door (doorbell, QR code, WebRTC)
 Press the doorbell and the screen shows a room code and a QR code; a phone
 that opens the link talks to the door from a plain browser. One process
 does signaling (PeerJS, with a built-in server), media (GStreamer webrtcbin),
 the screen (KMS/DRM) and the buttons (GPIO). Runs as the systemd service
 intercom.service, configured in /etc/intercom/intercom.yaml.
CONTROL

echo /etc/intercom/intercom.yaml > "$tree/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$repo_root/packaging/deb/$script" "$tree/DEBIAN/$script"
done

mkdir -p "$output"
package=$output/intercom_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$tree" "$package" > /dev/null
echo "$package"
