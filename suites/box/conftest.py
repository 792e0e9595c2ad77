"""Fixtures for the box tests: the built binary and the repository root."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope="session")
def intercom_bin():
    """The intercom binary ($INTERCOM_BIN, default .build/debug/intercom)."""
    binary = Path(os.environ.get("INTERCOM_BIN", ".build/debug/intercom"))
    if not binary.is_absolute():
        binary = REPO_ROOT / binary
    if not os.access(binary, os.X_OK):
        pytest.fail(f"intercom binary {binary} not found: build it first (`swift build`)")
    return binary
