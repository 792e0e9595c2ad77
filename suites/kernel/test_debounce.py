"""The kernel's own debounce (the GPIO v2 character-device API, which gpiolib runs in software for a chip such
as gpio-sim that has none in hardware) next to the door's software debouncer, on the same bounce trains.

A figure for docs/kernel-vm.md, not an assertion on time: for bounce trains of several gaps between edges, how
many presses each side counts and how long after the train's last edge it knows. The only assertions are on
counts the two debouncers must agree on: a train whose gaps are all shorter than the debounce period is one
press; one whose gaps are all longer is one press per low level.
"""

import fcntl
import os
import re
import select
import struct
import time

from conftest import next_event, report
from polling import poll
from test_buttons import DEBOUNCE_MS, DOORBELL, door_config, events_until_quiet

KERNEL_LINE = 5  # a free line on the same chip: the door holds DOORBELL
EDGES = 7  # low, high, low, high, low, high, low: four low levels, the last one held

# linux/gpio.h, the v2 line API.
GPIO_V2_LINE_FLAG_INPUT = 1 << 2
GPIO_V2_LINE_FLAG_EDGE_RISING = 1 << 4
GPIO_V2_LINE_FLAG_EDGE_FALLING = 1 << 5
GPIO_V2_LINE_ATTR_ID_DEBOUNCE = 3
GPIO_V2_LINE_EVENT_FALLING_EDGE = 2
REQUEST_SIZE = 592  # struct gpio_v2_line_request
GPIO_V2_GET_LINE_IOCTL = (3 << 30) | (REQUEST_SIZE << 16) | (0xB4 << 8) | 0x07
EVENT = struct.Struct("<QIIII24x")  # struct gpio_v2_line_event: timestamp_ns (CLOCK_MONOTONIC), id, offset, seqnos


def request_debounced_line(chip_path, offset, debounce_us):
    """A line request with edge events and the kernel's debounce; returns the request's fd."""
    request = bytearray(REQUEST_SIZE)
    struct.pack_into("<I", request, 0, offset)  # offsets[0]
    request[256:256 + 13] = b"kernel-tests\0"  # consumer[32]
    flags = GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING
    config = 288  # struct gpio_v2_line_config: flags, num_attrs, padding[5], attrs[10]
    struct.pack_into("<QI", request, config, flags, 1)
    # attrs[0]: {id, padding, debounce_period_us (union of 8 bytes)}, mask (line 0 of this request)
    struct.pack_into("<IIIIQ", request, config + 32, GPIO_V2_LINE_ATTR_ID_DEBOUNCE, 0, debounce_us, 0, 1)
    struct.pack_into("<I", request, config + 272, 1)  # num_lines
    fd = os.open(chip_path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, GPIO_V2_GET_LINE_IOCTL, request)
    finally:
        os.close(fd)
    return struct.unpack_from("<i", request, REQUEST_SIZE - 4)[0]


def kernel_events(fd, seconds):
    """(kind, monotonic seconds) of every edge the kernel reports within `seconds`."""
    seen = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        data = os.read(fd, EVENT.size * 16)
        for i in range(0, len(data), EVENT.size):
            timestamp, kind, _, _, _ = EVENT.unpack_from(data, i)
            seen.append(("press" if kind == GPIO_V2_LINE_EVENT_FALLING_EDGE else "release", timestamp / 1e9))
    return seen


def bounce(chip, gap_s):
    """EDGES alternating levels on both lines at once, `gap_s` apart, the last one low (pressed); returns the
    monotonic time of the last edge."""
    last = 0.0
    for i in range(EDGES):
        up = i % 2 == 1
        chip.pull(DOORBELL, up=up)
        chip.pull(KERNEL_LINE, up=up)
        last = time.monotonic()
        if i < EDGES - 1:
            time.sleep(gap_s)
    return last


def test_kernel_debounce_and_the_door_s_debouncer_count_the_same_bounce_trains(pi_chip, start_door):
    door = start_door(door_config())
    fd = request_debounced_line(pi_chip.path, KERNEL_LINE, DEBOUNCE_MS * 1000)
    try:
        lines = []
        for gap_ms in (2, 20, 60, 300):
            events = door.events(timeout=8.0)  # a read that times out ends events_until_quiet()
            train_wall = time.time()
            last_edge = bounce(pi_chip, gap_ms / 1000)
            time.sleep(0.6)  # held
            pi_chip.pull(DOORBELL, up=True)
            pi_chip.pull(KERNEL_LINE, up=True)
            released, released_wall = time.monotonic(), time.time()
            kernel = kernel_events(fd, 1.0 + 2 * DEBOUNCE_MS / 1000)
            kernel_presses = [at for kind, at in kernel if kind == "press"]
            kernel_releases = [at for kind, at in kernel if kind == "release"]
            # The door counts a press at its release: the first one opens a room, each later one rings it.
            door_presses = [next_event(events, lambda e: e.get("event") == "room-opened",
                                       f"the room opened by a bounce train with {gap_ms} ms gaps")]
            door_presses += [e for e in events_until_quiet(events, 2.0) if e.get("event") == "room-rang"]
            # The debouncer's own verdicts: the door logs each press with a wall-clock stamp.
            verdicts = [float(stamp) for stamp in re.findall(r"^\[([\d.]+)\] info buttons: GPIO doorbell$",
                                                             door.log_text(), re.M) if float(stamp) > train_wall]
            expected = 1 if gap_ms < DEBOUNCE_MS else (EDGES + 1) // 2
            assert len(kernel_presses) == expected and len(kernel_releases) == expected, (gap_ms, kernel)
            assert len(door_presses) == expected == len(verdicts), (gap_ms, [e["event"] for e in door_presses], verdicts)
            lines.append(f"gaps {gap_ms:>3} ms: kernel {len(kernel_presses)} press(es), last edge → press "
                         f"{(kernel_presses[-1] - last_edge) * 1000:.0f} ms, release → release "
                         f"{(kernel_releases[-1] - released) * 1000:.0f} ms; door {len(door_presses)} press(es), "
                         f"release → debouncer's press {(verdicts[-1] - released_wall) * 1000:.0f} ms, "
                         f"→ room event {(door_presses[-1]['_at'] - released) * 1000:.0f} ms")
            assert door.control({"cmd": "press", "button": "decline"}) == {"ok": True}
            poll(lambda: door.state()["phase"] == "idle", 30, message=lambda: f"never idle again: {door.state()}")
        report(f"debounce ({DEBOUNCE_MS} ms both), {EDGES} edges per train:")
        for line in lines:
            report("  " + line)
    finally:
        os.close(fd)

