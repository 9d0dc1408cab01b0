"""Bounded polling for tests: wait for a state, never sleep a fixed time and hope.

Every wait in the suite goes through :func:`wait_until`: on a loaded 2-core
machine a fixed sleep is either too short (the test races) or too long (the
suite crawls); a condition polled up to a deadline is neither.
"""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

T = TypeVar("T")
#: Long enough for a loaded CI machine; a test that passes waits far less.
DEADLINE = 20.0


def wait_until(
    probe: Callable[[], T],
    accept: Callable[[T], bool] = bool,
    deadline: float = DEADLINE,
    step: float = 0.02,
) -> T:
    """Poll ``probe`` until ``accept`` holds, within a bounded deadline; return that value."""
    end = time.monotonic() + deadline
    value = probe()
    while not accept(value):
        assert time.monotonic() < end, f"still {value!r} after {deadline}s"
        time.sleep(step)
        value = probe()
    return value


def try_get(url: str, headers: dict[str, str] | None = None) -> httpx.Response | None:
    """One GET on a new connection; ``None`` while nothing accepts connections there."""
    try:
        return httpx.get(url, headers=headers, timeout=5)
    except httpx.TransportError:
        return None


def wait_get(
    url: str,
    accept: Callable[[httpx.Response], bool] = lambda _: True,
    deadline: float = DEADLINE,
    process: subprocess.Popen[bytes] | subprocess.Popen[str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """GET ``url`` until an answer is accepted (any answer by default); return it.

    With ``process``, its exit ends the wait at once with its exit code.
    """

    def probe() -> httpx.Response | None:
        if process is not None:
            assert process.poll() is None, f"the process exited with {process.returncode}"
        return try_get(url, headers)

    response = wait_until(probe, lambda r: r is not None and accept(r), deadline)
    assert response is not None
    return response


def wait_ready(
    url: str,
    deadline: float = DEADLINE,
    process: subprocess.Popen[bytes] | subprocess.Popen[str] | None = None,
) -> None:
    """Wait until lbhealth at ``url`` answers ``/readyz`` with 200: every check probed once."""
    wait_get(f"{url}/readyz", lambda r: r.status_code == 200, deadline, process)


async def wait_until_async(
    probe: Callable[[], Awaitable[T] | T],
    accept: Callable[[T], bool] = bool,
    deadline: float = DEADLINE,
) -> T:
    """:func:`wait_until` inside an event loop: other tasks run while it waits.

    ``probe`` may be a plain function or a coroutine function.
    """

    async def value() -> T:
        got = probe()
        return await got if inspect.isawaitable(got) else got

    end = time.monotonic() + deadline
    current = await value()
    while not accept(current):
        assert time.monotonic() < end, f"still {current!r} after {deadline}s"
        await asyncio.sleep(0.02)
        current = await value()
    return current
