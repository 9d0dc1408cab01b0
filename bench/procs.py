"""Processes the benchmark runs and measures: servers on loopback, lbhealth, their CPU time.

Every server runs in its own process, so that its CPU time is its own and the
load generator or the flood never shares its event loop.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], deadline: float = 60) -> None:
    """Wait until ``url`` answers 200; raise when ``proc`` exits or the deadline passes."""
    end = time.monotonic() + deadline
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > end:
            raise RuntimeError(f"{url} not ready")
        time.sleep(0.05)


@contextmanager
def process(command: list[str], ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server until the block ends; wait until ``ready_url`` answers 200."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        wait_ready(ready_url, proc, 120)
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def lbhealth(
    inventory: dict[str, Any], workers: int = 1
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "inventory.yaml")
        path.write_text(yaml.safe_dump(inventory))
        command = [sys.executable, "-m", "lbhealth", "serve", "--config", str(path)]
        base = f"http://127.0.0.1:{port}"
        command += ["--port", str(port), "--workers", str(workers)]
        with process(command, f"{base}/readyz") as proc:
            yield base, proc


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and all its live descendants (workers, probe processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += cpu_seconds(current)
        except OSError:
            continue
        todo.extend(children.get(current, ()))
    return total


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")
