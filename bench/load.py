"""Load generators: wrk when installed, else this module (``python -m bench.load``).

Both run in their own process, on loopback, for a bounded time, and report
requests/s with the 50th and 99th latency percentiles. The Python generator
keeps ``connections`` keep-alive connections busy, one request at a time each,
as wrk does; it is slower than wrk, so figures from it understate the servers.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    tool: str


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> LoadResult:
    """Requests/s and latency percentiles from ``wrk --latency`` output."""

    def latency(percent: str) -> float:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            raise ValueError(f"no {percent}% latency in wrk output:\n{output}")
        return float(match.group(1)) * _UNITS_MS[match.group(2)]

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    if not rps or not total:
        raise ValueError(f"unexpected wrk output:\n{output}")
    return LoadResult(int(total.group(1)), float(rps.group(1)), latency("50"), latency("99"), "wrk")


def run_load(url: str, connections: int, seconds: float, tool: str) -> LoadResult:
    """Drive ``url`` from a separate process for ``seconds``."""
    if tool == "wrk":
        wrk = shutil.which("wrk")
        assert wrk is not None
        threads = min(2, connections)
        command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", url]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return parse_wrk(done.stdout)
    command = [sys.executable, "-m", "bench.load", url, str(connections), str(seconds)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return LoadResult(**json.loads(done.stdout))


async def _connection(host: str, port: int, request: bytes, until: float) -> list[float]:
    reader, writer = await asyncio.open_connection(host, port)
    latencies: list[float] = []
    try:
        while (start := time.perf_counter()) < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            await reader.readexactly(int(length.group(1)) if length else 0)
            latencies.append(time.perf_counter() - start)
    finally:
        writer.close()
    return latencies


async def _generate(url: str, connections: int, seconds: float) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = f"GET {parts.path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    start = time.perf_counter()
    runs = await asyncio.gather(
        *(_connection(host, port, request, start + seconds) for _ in range(connections))
    )
    elapsed = time.perf_counter() - start
    latencies = sorted(x for run in runs for x in run)

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    n = len(latencies)
    return LoadResult(n, n / elapsed, percentile(0.50), percentile(0.99), "python")


if __name__ == "__main__":
    try:
        from uvloop import run
    except ImportError:
        from asyncio import run
    url, connections, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(vars(run(_generate(url, connections, seconds)))))
