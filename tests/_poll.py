"""Bounded polling for tests: wait for a state, never sleep a fixed time and hope."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


def wait_until(probe: Callable[[], T], accept: Callable[[T], bool], deadline: float = 15) -> T:
    """Poll ``probe`` until ``accept`` holds, within a bounded deadline; return the last value."""
    end = time.monotonic() + deadline
    value = probe()
    while not accept(value):
        assert time.monotonic() < end, f"still {value!r} after {deadline}s"
        time.sleep(0.05)
        value = probe()
    return value


def _ready_status(url: str) -> int:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code
    except httpx.TransportError:
        return 0


def wait_ready(url: str, deadline: float = 15) -> None:
    """Wait until lbhealth at ``url`` answers ``/readyz`` with 200 (it may still be starting)."""
    wait_until(lambda: _ready_status(url), lambda status: status == 200, deadline)
