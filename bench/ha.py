"""High availability, measured: instances sharing a redis-server versus one alone.

For 1 instance without a store, 1 with one, and 3 sharing one, over the same window:

- backend probes per check per interval (1.0 without sharing; the goal with any number of
  instances sharing a store is 1.0 too, never above ``(T/interval + 2) / (T/interval)``);
- ``/health/{node}`` answer latency (p50, p99, max), polled one request at a time
  round-robin over the instances on keep-alive connections (a monitor's view, not a
  throughput test: ``python -m bench`` measures that);

and with 3 instances: how long a drain made through one takes to be served by the
others, and the answer latency while Redis is stopped (``SIGSTOP``), which the fast
path must not feel. Needs ``redis-server`` (``./dev test`` installs it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import yaml

from bench.procs import free_port, wait_ready
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer

INTERVAL = 1.0
CHECKS = 10
TOKEN = "bench-ha-token-0001"


@contextmanager
def redis_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throwaway redis-server on a free port: (URL, process)."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    proc = subprocess.Popen([*command, "--save", "", "--appendonly", "no"], stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(10)


@contextmanager
def instances(backend: SimServer, count: int, store: str | None) -> Iterator[list[str]]:
    """``count`` ``lbhealth serve`` processes on one inventory, all started at once, ready."""
    settings = {"interval": INTERVAL, "log_level": "warning", "admin_token": TOKEN}
    if store:
        settings["store"] = store
    nodes = {
        f"n{i}": {"checks": [{"kind": "iis", "url": backend.url(f"/{i}")}]} for i in range(CHECKS)
    }
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        config = Path(tmp, "inventory.yaml")
        config.write_text(yaml.safe_dump({"settings": settings, "nodes": nodes}))
        started = []
        for _ in range(count):
            port = free_port()
            command = [sys.executable, "-m", "lbhealth", "serve", "--config", str(config)]
            proc = subprocess.Popen([*command, "--port", str(port)], stdout=subprocess.DEVNULL)
            stack.callback(proc.wait, 10)
            stack.callback(proc.terminate)
            started.append((f"http://127.0.0.1:{port}", proc))
        for url, proc in started:
            wait_ready(f"{url}/readyz", proc)
        yield [url for url, _ in started]


def latencies(urls: list[str], seconds: float) -> list[float]:
    """Milliseconds of each ``/health/n0`` answer, round-robin over ``urls``, for ``seconds``."""
    clients = [httpx.Client(base_url=url, timeout=5) for url in urls]
    taken: list[float] = []
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            for client in clients:
                start = time.perf_counter()
                client.get("/health/n0")
                taken.append((time.perf_counter() - start) * 1000)
    finally:
        for client in clients:
            client.close()
    return taken


def spread(taken: list[float]) -> str:
    q = statistics.quantiles(taken, n=100)
    return f"p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms, max {max(taken):.1f} ms ({len(taken)} answers)"


def propagation_ms(urls: list[str]) -> float:
    """Milliseconds until every other instance serves a drain made through the first."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    change = {"state": "drain", "reason": "bench"}
    clients = [httpx.Client(base_url=url, timeout=5) for url in urls[1:]]
    try:
        start = time.perf_counter()
        httpx.put(f"{urls[0]}/admin/nodes/n1/state", json=change, headers=auth).raise_for_status()
        for client in clients:
            while not client.get("/health/n1").text.startswith("DRAIN"):
                if time.perf_counter() - start > 10:
                    raise RuntimeError("drain not propagated within 10 s")
        return (time.perf_counter() - start) * 1000
    finally:
        for client in clients:
            client.close()


def bench_ha(backend: SimServer, seconds: float) -> None:
    """Print the figures of the module docstring; ``seconds`` is each window's length."""
    if shutil.which("redis-server") is None:
        print("high availability: skipped (no redis-server; ./dev test installs it)")
        return
    window = max(seconds, INTERVAL)
    for i in range(CHECKS):
        backend.pages.setdefault(f"/{i}", IIS_WELCOME)
    print(f"high availability: {CHECKS} checks, interval {INTERVAL:g} s, {window:g} s per run")
    with redis_server() as (store, redis):
        for label, count, url in (
            ("1 alone", 1, None),
            ("1 + store", 1, store),
            ("3 + store", 3, store),
        ):
            before, start = sum(backend.hits.values()), time.monotonic()
            with instances(backend, count, url) as urls:
                taken = latencies(urls, window)
                elapsed = time.monotonic() - start
                probes = sum(backend.hits.values()) - before
                per_interval = probes / CHECKS / (elapsed / INTERVAL)
                bound = (elapsed / INTERVAL + 2) / (elapsed / INTERVAL)
                print(
                    f"  {label:<10} probes per check per interval {per_interval:.2f}"
                    f" (bound {bound:.2f}); answers {spread(taken)}",
                    flush=True,
                )
                if count > 1:
                    print(f"    drain through one, served by all: {propagation_ms(urls):.1f} ms")
                    os.kill(redis.pid, signal.SIGSTOP)
                    try:
                        hung = latencies(urls, window)
                    finally:
                        os.kill(redis.pid, signal.SIGCONT)
                    print(
                        f"    answers while Redis is stopped (SIGSTOP): {spread(hung)}", flush=True
                    )
