"""What the benchmark's parts share: free ports, counting backends, lbhealth and other servers
run as processes, CPU and memory readings from /proc."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import Page, SimServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Backends:
    """One counting SimServer on a background loop, one path per check."""

    def __init__(self, paths: int, extra: dict[str, Page] | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        pages = {f"/{i}": IIS_WELCOME for i in range(paths)} | (extra or {})
        self.server = self._run(SimServer(pages).start())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def inventory(self, nodes: int, interval: float) -> dict[str, Any]:
        return {
            "settings": {"interval": interval, "log_level": "warning"},
            "nodes": {
                f"n{i}": {"checks": [{"kind": "iis", "url": self.server.url(f"/{i}")}]}
                for i in range(nodes)
            },
        }

    def close(self) -> None:
        self._run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)


@contextmanager
def process(command: list[str], ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server until the block ends; wait until ``ready_url`` answers 200."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command} exited with {proc.returncode}")
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{ready_url} not ready")
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def lbhealth(
    inventory: dict[str, Any], workers: int = 1
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``lbhealth serve`` on ``inventory`` until the block ends; ready when it yields."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "inventory.yaml")
        path.write_text(yaml.safe_dump(inventory))
        command = [sys.executable, "-m", "lbhealth", "serve", "--config", str(path)]
        base = f"http://127.0.0.1:{port}"
        command += ["--port", str(port), "--workers", str(workers)]
        with process(command, f"{base}/readyz") as proc:
            yield base, proc


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        path = Path(f"/proc/{current}/task/{current}/children")
        if path.exists():
            todo += [int(child) for child in path.read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its descendants (the probe process included)."""
    total = 0
    for each in _descendants(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")
