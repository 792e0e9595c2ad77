"""Waiting on a condition with a deadline instead of sleeping a fixed time."""

import time

import pytest


def poll(fn, timeout, interval=0.05, message="condition not met"):
    """Return fn()'s first truthy value, calling it every `interval` seconds for up to `timeout` seconds.

    Exceptions from fn propagate at once (fail fast). On timeout the test fails with `message` (a string,
    or a callable returning one, evaluated then so it can describe the current state) and fn's last value.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            pytest.fail(f"{text} (waited {timeout:g} s; last value: {value!r})")
        time.sleep(interval)
