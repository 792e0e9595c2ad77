"""Buttons on a real gpiochip: gpio-sim labelled like a Pi 4's header chip, its lines driven low the way a
button wired to ground pulls them (README "Buttons"; the door requests them active-low with the pull-up on).
"""

import re
import socket
import subprocess
import time

import pytest

from conftest import PI_LABEL, gpio_tool_chip, next_event, report
from polling import poll

DOORBELL, ANSWER, DECLINE, MUTE = 17, 27, 22, 23
DEBOUNCE_MS = 150  # generous: under emulation a Python write to sysfs can take milliseconds
LONG_PRESS_MS = 800
QUIET = 2.0  # how long "nothing more happens" is watched


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def door_config(chip="auto", output="snapshot", extra=""):
    port = free_port()
    return f"""door:
  name: Kernel test
signaling:
  listen: 127.0.0.1:{port}
web:
  base: http://127.0.0.1:{port}
paths:
  state: @WORKDIR@/state
gpio:
  chip: {chip}
  debounce_ms: {DEBOUNCE_MS}
  long_press_ms: {LONG_PRESS_MS}
  buttons:
    doorbell: {DOORBELL}
    answer: {ANSWER}
    decline: {DECLINE}
    mute: {MUTE}
display:
  output: {output}
media:
  camera: test
{extra}"""


def press(chip, line, hold=0.4):
    chip.pull(line, up=False)
    time.sleep(hold)  # the person's finger on the button
    chip.pull(line, up=True)


def events_until_quiet(events, seconds):
    """Every event that arrives within `seconds`."""
    seen = []
    deadline = time.monotonic() + seconds
    try:
        for event in events:
            seen.append(event)
            if time.monotonic() > deadline:
                break
    except TimeoutError:
        pass
    return seen


@pytest.fixture
def door(pi_chip, start_door):
    door = start_door(door_config())
    door.chip = pi_chip
    return door


def test_auto_finds_the_pi_chip_and_the_doorbell_opens_a_room(door):
    assert f"'{PI_LABEL}'" in door.log_text() and door.chip.chip_name in door.log_text(), door.log_text()
    latencies = []
    for attempt in range(3):
        events = door.events()
        door.chip.pull(DOORBELL, up=False)
        time.sleep(0.3)
        # A short press is known at its release (until then it may become a long one): time from that edge.
        released_at = time.monotonic()
        door.chip.pull(DOORBELL, up=True)
        screen = next_event(events, lambda e: e.get("event") == "screen" and e.get("screen") == "room",
                            "the room screen after a doorbell press on the gpio-sim line")
        latencies.append((screen["_at"] - released_at) * 1000)
        state = door.state()
        assert state["phase"] == "room" and len(state["room"]["code"]) == 5, state
        assert door.control({"cmd": "press", "button": "decline"}) == {"ok": True}
        poll(lambda: door.state()["phase"] == "idle", 30, message=lambda: f"never idle again: {door.state()}")
    report("buttons: doorbell release edge (gpio-sim) → room screen event (snapshot display), ms: "
           + ", ".join(f"{ms:.0f}" for ms in latencies) + f" (debounce_ms {DEBOUNCE_MS})")


def test_a_bounce_train_shorter_than_debounce_is_one_press(door):
    events = door.events()
    # Contact bounce: five edges within a few milliseconds, then held.
    for level in (False, True, False, True, False):
        door.chip.pull(DOORBELL, up=level)
    time.sleep(0.5)
    door.chip.pull(DOORBELL, up=True)
    seen = events_until_quiet(events, QUIET + DEBOUNCE_MS / 1000)
    names = [e["event"] for e in seen]
    assert names.count("room-opened") == 1, names
    assert "room-rang" not in names, names  # a second press in the room would ring it again
    # One more clean press is one more press: the room rings again.
    events = door.events()
    press(door.chip, DOORBELL)
    next_event(events, lambda e: e.get("event") == "room-rang", "room-rang after a second press")


def test_a_hold_past_long_press_opens_the_pairing_window_and_decline_closes_it(door):
    events = door.events()
    door.chip.pull(DOORBELL, up=False)
    next_event(events, lambda e: e.get("event") == "phase" and e.get("phase") == "pairing",
               "the pairing phase while the doorbell is held past long_press_ms")
    door.chip.pull(DOORBELL, up=True)
    assert door.state()["phase"] == "pairing"
    press(door.chip, DECLINE)
    next_event(events, lambda e: e.get("event") == "phase" and e.get("phase") == "idle", "idle after DECLINE")


def test_answer_and_mute_without_a_caller_change_nothing_and_decline_closes_the_room(door):
    events = door.events()
    press(door.chip, DOORBELL)
    opened = next_event(events, lambda e: e.get("event") == "room-opened", "room-opened")
    press(door.chip, ANSWER)
    press(door.chip, MUTE)
    seen = events_until_quiet(events, QUIET)
    changes = [e for e in seen if e["event"] in ("room-closed", "muted") or e["event"] == "phase" and e["phase"] != "room"]
    assert not changes, seen
    assert door.state()["phase"] == "room"
    press(door.chip, DECLINE)
    closed = next_event(events, lambda e: e.get("event") == "room-closed", "room-closed after DECLINE")
    assert closed["code"] == opened["code"]


def test_probe_gpio_reports_the_lines_held_by_the_running_door(door, intercom_bin):
    result = subprocess.run([intercom_bin, "probe", "gpio", "--config", door.config], capture_output=True, text=True,
                            timeout=60, cwd=door.workdir)
    lines = result.stdout.splitlines()
    library = [line for line in lines if "libgpiod" in line]
    assert len(library) == 1 and re.search(r"libgpiod \d+\.\d+.* \(API [12]\)", library[0]), lines
    report("buttons: probe gpio: " + library[0].strip())
    assert any(line.startswith("OK") and f"{door.chip.chip_name} '{PI_LABEL}'" in line for line in lines), lines
    for name, line in (("doorbell", DOORBELL), ("answer", ANSWER), ("decline", DECLINE), ("mute", MUTE)):
        assert any(l.startswith("OK") and f"{name}: line {line}" in l and "held by the running intercom" in l
                   for l in lines), (name, lines)


def test_a_line_held_by_another_process_is_a_clear_error(pi_chip, start_door):
    chip = gpio_tool_chip(pi_chip.chip_name)
    holder = subprocess.Popen(["gpiomon", *chip, str(ANSWER)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        poll(lambda: "gpiomon" in subprocess.run(["gpioinfo", *chip], capture_output=True, text=True).stdout, 20,
             message="gpiomon never held the line")
        door = start_door(door_config(), wait=False)
        status = door.process.wait(60)
        log = door.log_text()
        assert status != 0, log
        assert f"line {ANSWER}" in log and "is busy (used by 'gpiomon')" in log, log
        report("buttons: a held line: " + next(l for l in log.splitlines() if "is busy" in l).strip())
    finally:
        holder.terminate()
        holder.wait(10)
