"""Monitors under a connection flood from another address (issue 14's floor: all answered in 1 s).

A separate process (``python -m bench.flood HOST PORT COUNT SECONDS``) holds
``COUNT`` connections to lbhealth from 127.0.0.2, half idle and half with a
request head never finished, and reopens each one a second after lbhealth
closes it, for ``SECONDS``. Meanwhile this process polls ``/health/{node}``
from 127.0.0.1 on a new connection each time, as HAProxy and F5 do, and
records each answer's status and latency. lbhealth runs with its default
client limits.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.procs import lbhealth

FLOOD_SOURCE, MONITOR_SOURCE = "127.0.0.2", "127.0.0.1"
HALF_HEAD = b"GET /health/n0 HTTP/1.1\r\nHost: x\r\nX-Slow: "
#: The floor: every monitor poll answered 200 within this many seconds.
FLOOR_S = 1.0
POLL_EVERY = 0.1
REOPEN_AFTER = 1.0


@dataclass(frozen=True)
class Polls:
    """What the monitor saw during the flood."""

    sent: int
    ok: int  # 200 within FLOOR_S
    statuses: dict[str, int]
    worst_ms: float
    p50_ms: float


def poll_once(port: int, path: str) -> tuple[str, float]:
    """One poll on a new connection: the status (or the failure) and its latency."""
    start = time.perf_counter()
    try:
        with socket.create_connection(
            ("127.0.0.1", port), timeout=5, source_address=(MONITOR_SOURCE, 0)
        ) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.") else "none"
    except OSError as exc:
        status = type(exc).__name__
    return status, time.perf_counter() - start


def monitor(port: int, path: str, seconds: float) -> Polls:
    """Poll every POLL_EVERY seconds for ``seconds``."""
    results = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        results.append(poll_once(port, path))
        time.sleep(POLL_EVERY)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(latency for _, latency in results)
    ok = sum(status == "200" and latency <= FLOOR_S for status, latency in results)
    worst, median = latencies[-1] * 1000, latencies[len(results) // 2] * 1000
    return Polls(len(results), ok, statuses, worst, median)


async def hold(host: str, port: int, half: bool, until: float, counts: dict[str, int]) -> None:
    """One flood slot: a connection kept open, reopened a second after each close."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(FLOOD_SOURCE, 0))
        except OSError:
            counts["failed"] += 1
            await asyncio.sleep(REOPEN_AFTER)
            continue
        counts["opened"] += 1
        try:
            if half:
                writer.write(HALF_HEAD)
            left = until - time.monotonic()
            # Anything read ends the wait: lbhealth closed it, or answered 408 and closes.
            await asyncio.wait_for(reader.read(65536), max(left, 0.01))
            counts["closed_by_lbhealth"] += 1
        except TimeoutError:
            counts["open_at_end"] += 1
        except OSError:
            counts["closed_by_lbhealth"] += 1
        finally:
            writer.close()
        await asyncio.sleep(REOPEN_AFTER)


async def flood(host: str, port: int, count: int, seconds: float) -> dict[str, int]:
    counts = dict.fromkeys(("opened", "failed", "closed_by_lbhealth", "open_at_end"), 0)
    until = time.monotonic() + seconds
    await asyncio.gather(*(hold(host, port, i % 2 == 1, until, counts) for i in range(count)))
    return counts


def bench_flood(inventory: dict[str, Any], seconds: float, count: int = 1500) -> None:
    """Print the monitor's answers and worst latency during a ``count``-connection flood."""
    print(
        f"flood: {count} connections from {FLOOD_SOURCE} (half idle, half half-sent, each"
        f" reopened {REOPEN_AFTER:g} s after a close) for {seconds:g} s; monitor polls from"
        f" {MONITOR_SOURCE} every {POLL_EVERY:g} s, default client limits",
        flush=True,
    )
    with lbhealth(inventory) as (base, _):
        port = int(base.rsplit(":", 1)[1])
        command = [sys.executable, "-m", "bench.flood", "127.0.0.1", str(port)]
        flooder = subprocess.Popen(
            [*command, str(count), str(seconds + min(2.0, seconds))],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(min(2.0, seconds))  # the flood is open before the first poll
            polls = monitor(port, "/health/n0", seconds)
            out, _ = flooder.communicate(timeout=seconds + 60)
        finally:
            if flooder.poll() is None:
                flooder.kill()
                flooder.wait()
    counts = json.loads(out)
    print(
        f"  monitor: {polls.ok}/{polls.sent} polls answered 200 within {FLOOR_S:g} s"
        f" (statuses {polls.statuses}); p50 {polls.p50_ms:.1f} ms, worst {polls.worst_ms:.1f} ms"
        f" (floor: all, worst <= {FLOOR_S * 1000:.0f} ms)\n"
        f"  flood: {counts['opened']} connections opened, {counts['closed_by_lbhealth']} closed"
        f" by lbhealth, {counts['open_at_end']} still open at the end,"
        f" {counts['failed']} connects failed",
        flush=True,
    )


if __name__ == "__main__":
    try:
        from uvloop import run
    except ImportError:
        from asyncio import run
    host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    print(json.dumps(run(flood(host, port, count, seconds))))
