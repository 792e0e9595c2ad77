#!/usr/bin/env bash
# `make test-kernel`: boots Debian's own kernel in a software-emulated VM (qemu TCG) with the virtual drivers
# vkms (KMS/DRM), gpio-sim (GPIO) and vivid (V4L2), and runs suites/kernel inside it against the real drivers.
#
# Everything comes from the Debian archive through apt (`apt-get download` + `dpkg-deb -x`; nothing is installed
# into the host's kernel). Cached under $INTERCOM_KERNEL_CACHE (default /var/cache/intercom-kernel), keyed by the
# kernel version apt currently offers: the unpacked kernel and its modules, vkms.ko and gpio-sim.ko built out of
# tree (Debian does not build them). The guest sees the host's root read-only over 9p and writes its results, its
# exit status and the console log into a second, writable share (.build/test-kernel/out).
#
# With --trixie (`make test-kernel-trixie`) the guest's root is the `make test-trixie` chroot instead
# (Debian 13, libgpiod 2) and the door is its build, .build-trixie/debug/intercom; the repository and the Swift
# runtime are shared into it read-only, and only the buttons and screen groups run. Without that chroot or that
# build the variant is skipped with one line.
#
# Usage: scripts/test-kernel.sh [--trixie] [pytest arguments for the guest...]
# Environment: INTERCOM_KERNEL_TIMEOUT (seconds for the whole VM run, default 1500), INTERCOM_BIN (the binary
# the guest tests run, default .build/debug/intercom), INTERCOM_KERNEL_MEM (MiB, default 2048).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
export PATH=$PATH:/usr/sbin:/sbin

cache_root=${INTERCOM_KERNEL_CACHE:-/var/cache/intercom-kernel}
timeout_s=${INTERCOM_KERNEL_TIMEOUT:-1500}
memory_mib=${INTERCOM_KERNEL_MEM:-2048}
work=$repo_root/.build/test-kernel
out=$work/out

step() {
    printf 'test-kernel: %s\n' "$*"
}
fail() {
    printf 'test-kernel: error: %s\n' "$*" >&2
    exit 1
}

started=$(date +%s.%N)

variant=host
if [[ ${1:-} == --trixie ]]; then
    shift
    variant=trixie
    trixie_root=${INTERCOM_TRIXIE_CACHE:-/var/cache/intercom-trixie}/trixie-$(dpkg --print-architecture)
    trixie_bin=$repo_root/.build-trixie/debug/intercom
    if [[ ! -e $trixie_root/.intercom-chroot-ready ]]; then
        step "skipping the trixie variant: no trixie chroot at $trixie_root (make test-trixie makes it)"
        exit 0
    fi
    if [[ ! -x $trixie_bin ]]; then
        step "skipping the trixie variant: no trixie build at $trixie_bin (make test-trixie builds it)"
        exit 0
    fi
    work=$repo_root/.build/test-kernel-trixie
    out=$work/out
fi
elapsed() {
    awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# 1. The kernel apt offers now: linux-image-amd64's dependency, and that package's candidate version.
kernel_package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
if [[ -z $kernel_package ]]; then
    step "apt knows no linux-image-amd64; running apt-get update"
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    kernel_package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
fi
[[ -n $kernel_package ]] || fail "apt offers no linux-image-amd64 dependency"
kernel_release=${kernel_package#linux-image-}                      # 6.1.0-57-amd64
kernel_version=$(apt-cache policy "$kernel_package" | awk '/Candidate:/ { print $2 }')   # 6.1.192-3
abi=${kernel_release%-amd64}                                        # 6.1.0-57
series=${kernel_release%%.0-*}                                      # 6.1
cache=$cache_root/${kernel_release}_$kernel_version
root=$cache/root
step "kernel $kernel_release ($kernel_version), cache $cache"

# 2. Download and unpack (once per kernel version).
if [[ ! -e $cache/unpacked.stamp ]]; then
    step "downloading the kernel, its headers and linux-source-$series from apt"
    rm -rf "$cache"
    mkdir -p "$cache/debs" "$root"
    (cd "$cache/debs" && apt-get download -q "$kernel_package" "linux-headers-$kernel_release" \
        "linux-headers-$abi-common" "linux-kbuild-$series" "linux-source-$series")
    for deb in "$cache"/debs/*.deb; do
        dpkg-deb -x "$deb" "$root"
    done
    rm -rf "$cache/debs"
    # The headers' Makefile includes the common tree by its installed path; point it at the unpacked one.
    sed -i "s|^include /usr/src/|include $root/usr/src/|" "$root/usr/src/linux-headers-$kernel_release/Makefile"
    touch "$cache/unpacked.stamp"
fi

# 3. vkms and gpio-sim as out-of-tree modules: only their sources leave the linux-source tarball. gpio-sim needs
# the IRQ simulator, which Debian does not build either, so it is linked into gpio-sim.ko; the simulator's one
# call into a non-exported function is replaced by the exported equivalent.
modules_dir=$root/lib/modules/$kernel_release
if [[ ! -e $cache/modules.stamp ]]; then
    step "building vkms.ko and gpio-sim.ko"
    src=$cache/src
    rm -rf "$src" "$cache/mod"
    mkdir -p "$src" "$cache/mod"
    tar -xf "$root/usr/src/linux-source-$series.tar.xz" -C "$src" --strip-components=1 \
        "linux-source-$series/drivers/gpu/drm/vkms" "linux-source-$series/drivers/gpio/gpio-sim.c" \
        "linux-source-$series/drivers/gpio/gpiolib.h" "linux-source-$series/kernel/irq/irq_sim.c"
    cp "$src"/drivers/gpu/drm/vkms/*.[ch] "$cache/mod/"
    cp "$src/drivers/gpio/gpio-sim.c" "$cache/mod/gpio-sim-main.c"
    cp "$src/drivers/gpio/gpiolib.h" "$src/kernel/irq/irq_sim.c" "$cache/mod/"
    sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$cache/mod/irq_sim.c"
    grep -q 'generic_handle_irq(irqnum);' "$cache/mod/irq_sim.c" || fail "irq_sim.c changed upstream: update the patch"
    vkms_objects=$(sed -n 's/^\t\(vkms_[a-z]*\.o\).*/\1/p' "$src/drivers/gpu/drm/vkms/Makefile" | tr '\n' ' ')
    cat >"$cache/mod/Kbuild" <<EOF
obj-m := vkms.o gpio-sim.o
vkms-y := $vkms_objects
gpio-sim-y := gpio-sim-main.o irq_sim.o
EOF
    make -s -C "$root/usr/src/linux-headers-$kernel_release" M="$cache/mod" -j"$(nproc)" modules
    mkdir -p "$modules_dir/extra"
    cp "$cache/mod/vkms.ko" "$cache/mod/gpio-sim.ko" "$modules_dir/extra/"
    depmod -b "$root" "$kernel_release"
    touch "$cache/modules.stamp"
fi
step "kernel and modules ready ($(elapsed) s)"

# 4. The initramfs: static busybox, the modules 9p over virtio needs, and suites/kernel/init.
rm -rf "$work"
mkdir -p "$work/initramfs"/{bin,dev,proc,sys,newroot,out,modules} "$out"
cp /bin/busybox "$work/initramfs/bin/busybox"
file /bin/busybox | grep -q 'statically linked' || fail "/bin/busybox is not static: install busybox-static"
cp suites/kernel/init "$work/initramfs/init"
: >"$work/initramfs/modules.order"
while read -r verb path _; do
    [[ $verb == insmod ]] || continue
    [[ ! -e $work/initramfs/modules/$(basename "$path") ]] || continue
    cp "$path" "$work/initramfs/modules/"
    basename "$path" >>"$work/initramfs/modules.order"
done < <(modprobe --show-depends -d "$root" -S "$kernel_release" -a virtio_pci 9pnet_virtio 9p)
(cd "$work/initramfs" && find . | cpio -o -H newc --quiet) >"$work/initramfs.cpio"

# 5. A GStreamer registry built here for the guest: the guest's first scan would cost ~30 s under emulation.
# The tests' own helper: reads back the framebuffer vkms scans out (suites/kernel/drm-readback.c).
# Both are made by the guest root's own GStreamer and libdrm: the host's, or the trixie chroot's.
if [[ $variant == trixie ]]; then
    guest_root=$trixie_root
    guest_repo=/src
    guest_bin=$guest_repo/.build-trixie/debug/intercom
    guest_python=python3
    guest_tests="suites/kernel/test_buttons.py suites/kernel/test_screen.py"
    # The chroot gets what the guest needs (scripts/deps.sh kernel-guest: idempotent, apt only for what is
    # missing), through the same bind mounts `make test-trixie` uses; they are undone on every exit path.
    chroot_mounts=()
    undo_mounts() {
        local i
        for ((i = ${#chroot_mounts[@]} - 1; i >= 0; i--)); do
            umount "${chroot_mounts[i]}" 2>/dev/null || umount -l "${chroot_mounts[i]}" 2>/dev/null || true
        done
        chroot_mounts=()
    }
    trap undo_mounts EXIT
    mkdir -p "$guest_root/src" "$guest_root/opt/swift" "$guest_root/run/kernel-out"
    mount -t proc proc "$guest_root/proc"
    chroot_mounts+=("$guest_root/proc")
    for pair in /dev:/dev "${INTERCOM_SWIFT_ROOT:-/opt/swift}:/opt/swift" "$repo_root:/src" "$out:/run/kernel-out"; do
        mount --bind "${pair%%:*}" "$guest_root${pair#*:}"
        chroot_mounts+=("$guest_root${pair#*:}")
    done
    cp -L /etc/resolv.conf "$guest_root/etc/resolv.conf"
    step "installing what the guest needs into the trixie chroot (scripts/deps.sh kernel-guest)"
    # shellcheck disable=SC2016 # expanded inside the chroot
    chroot "$guest_root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
        PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -c '
        set -euo pipefail
        cd /src
        scripts/deps.sh kernel-guest
        GST_REGISTRY=/run/kernel-out/gst-registry.bin gst-inspect-1.0 >/dev/null 2>&1 || true
        read -r -a drm_flags < <(pkg-config --cflags --libs libdrm)
        gcc -O2 -Wall -Wextra -Werror -o /run/kernel-out/drm-readback suites/kernel/drm-readback.c "${drm_flags[@]}"
        echo "test-kernel: guest root: $(. /etc/os-release && echo "$PRETTY_NAME"), libgpiod $(pkg-config --modversion libgpiod), $(python3 -m pytest --version 2>&1)"'
    undo_mounts
    [[ -s $out/gst-registry.bin ]] || fail "the chroot's gst-inspect-1.0 did not write a registry"
    [[ -z ${INTERCOM_BIN:-} ]] || step "INTERCOM_BIN is ignored by --trixie: the guest runs $guest_bin"
    intercom_bin=$trixie_bin
else
    guest_root=/
    guest_repo=$repo_root
    guest_python=$repo_root/.venv/bin/python
    guest_tests=suites/kernel
    GST_REGISTRY=$out/gst-registry.bin gst-inspect-1.0 >/dev/null 2>&1 || true
    [[ -s $out/gst-registry.bin ]] || fail "gst-inspect-1.0 did not write a registry"
    read -r -a drm_flags < <(pkg-config --cflags --libs libdrm)
    gcc -O2 -Wall -Wextra -Werror -o "$out/drm-readback" suites/kernel/drm-readback.c "${drm_flags[@]}"
    intercom_bin=${INTERCOM_BIN:-.build/debug/intercom}
    [[ $intercom_bin == /* ]] || intercom_bin=$repo_root/$intercom_bin
    guest_bin=$intercom_bin
fi

# What the guest runs, passed through the writable share.
[[ -x $intercom_bin ]] || fail "$intercom_bin not found: build it first (swift build)"
{
    printf 'REPO=%q\n' "$guest_repo"
    printf 'INTERCOM_BIN=%q\n' "$guest_bin"
    printf 'GUEST_PYTHON=%q\n' "$guest_python"
    printf 'GUEST_TESTS=%q\n' "$guest_tests"
    # Extra read-only shares the init mounts into the guest root (tag:path pairs; the trixie root has neither).
    if [[ $variant == trixie ]]; then
        printf 'EXTRA_SHARES=%q\n' "repo:/src swift:/opt/swift"
    else
        printf 'EXTRA_SHARES=\n'
    fi
    printf 'KERNEL_RELEASE=%q\n' "$kernel_release"
    # Each argument shell-quoted, so `-k "screen or camera"` stays two words (guest.sh evals it into an array).
    printf 'PYTEST_ARGS=%q\n' "$(printf '%q ' "$@")"
} >"$out/guest.env"

# 6. Boot. No display, no TTY: the serial console goes to a file, qemu exits when the guest powers off.
extra_shares=()
if [[ $variant == trixie ]]; then
    # shellcheck disable=SC2054 # qemu's option values are comma-separated
    extra_shares=(-fsdev "local,id=repo,path=$repo_root,security_model=none,readonly=on,multidevs=remap"
        -device virtio-9p-pci,fsdev=repo,mount_tag=repo
        -fsdev "local,id=swift,path=$(readlink -f "${INTERCOM_SWIFT_ROOT:-/opt/swift}"),security_model=none,readonly=on,multidevs=remap"
        -device virtio-9p-pci,fsdev=swift,mount_tag=swift)
fi
step "booting the VM (TCG, ${memory_mib} MiB, timeout ${timeout_s} s, guest root $guest_root)"
boot_started=$(date +%s.%N)
printf '%s\n' "$boot_started" >"$out/host-boot-started"
console=$out/console.log
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
    -machine q35 -accel tcg -cpu max -smp 2 -m "$memory_mib" \
    -display none -vga none -monitor none -serial "file:$console" -no-reboot \
    -kernel "$root/boot/vmlinuz-$kernel_release" -initrd "$work/initramfs.cpio" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init" \
    -fsdev "local,id=hostroot,path=$guest_root,security_model=none,readonly=on,multidevs=remap" \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev local,id=modules,path="$root/lib/modules",security_model=none,readonly=on \
    -device virtio-9p-pci,fsdev=modules,mount_tag=modules \
    -fsdev local,id=out,path="$out",security_model=none \
    -device virtio-9p-pci,fsdev=out,mount_tag=out \
    "${extra_shares[@]}" \
    -nic none </dev/null
qemu_status=$?
set -e

status=$(cat "$out/status" 2>/dev/null || echo missing)
if [[ -f $out/guest-started ]]; then
    guest_uptime=$(awk '{ print $1 }' "$out/guest-started")
    boot_wall=$(awk -v a="$boot_started" -v b="$(stat -c %.9Y "$out/guest-started")" 'BEGIN { printf "%.1f", b - a }')
    step "boot: the guest's init ran ${boot_wall} s after qemu started (guest uptime $guest_uptime s)"
fi
# pytest's own report from inside the guest (each test's result), then the figures the tests printed.
if [[ -f $out/pytest.log ]]; then
    step "suites/kernel inside the VM:"
    cat "$out/pytest.log"
fi
if [[ -f $out/summary.txt ]]; then
    cat "$out/summary.txt"
fi
step "VM finished in $(elapsed) s in total (qemu exit $qemu_status, guest status $status)"
if [[ $status != 0 ]]; then
    if [[ $qemu_status == 124 || $qemu_status == 137 ]]; then
        step "the VM timed out after $timeout_s s"
    fi
    step "guest console log ($console):"
    cat "$console" >&2 || true
    exit 1
fi
