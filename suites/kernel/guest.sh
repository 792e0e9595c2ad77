#!/usr/bin/env bash
# Runs inside the test VM (suites/kernel/init starts it in the host's root, read-only): loads the virtual
# drivers and runs the kernel tests with pytest; results go to the writable share /run/kernel-out.
set -euo pipefail
out=/run/kernel-out
cd "$REPO"

modprobe() {
    command modprobe -d /run/kmod "$@"
}

echo "guest: kernel $(uname -r), $(nproc) CPUs"
modprobe configfs
mount -t configfs configfs /sys/kernel/config
modprobe vkms enable_writeback=1
modprobe gpio-sim
modprobe vivid n_devs=1 node_types=0x1
# Loopback for the signaling server, and one more address: libnice gathers no loopback candidates, so two
# doors calling each other inside the VM meet on a dummy interface.
modprobe dummy
ip link set lo up
ip link add kernel0 type dummy
ip addr add 10.203.0.1/24 dev kernel0
ip link set kernel0 up
ls -l /dev/dri /dev/video* /dev/gpiochip* 2>&1 || true

export GST_REGISTRY=$out/gst-registry.bin GST_REGISTRY_UPDATE=no PYTHONDONTWRITEBYTECODE=1
extra=()
eval "extra=(${PYTEST_ARGS:-})"  # scripts/test-kernel.sh quoted each argument
set +e
tests=()
read -r -a tests <<<"${GUEST_TESTS:-suites/kernel}"
# shellcheck disable=SC1091
echo "guest: $(. /etc/os-release && echo "$PRETTY_NAME"), door $INTERCOM_BIN"
"${GUEST_PYTHON:-$REPO/.venv/bin/python}" -m pytest -p no:cacheprovider -v -s "${tests[@]}" \
    --junitxml="$out/junit.xml" "${extra[@]}" 2>&1 | tee "$out/pytest.log"
status=${PIPESTATUS[0]}
set -e
exit "$status"
