"""``./dev bench`` (``python -m bench``): lbhealth under monitor load, measured.

Prints, in one run on one machine:

- requests/s, p50 and p99 of ``/health/{node}`` for lbhealth and for a bare
  ASGI app sending the same bytes under the same uvicorn settings (the
  stack's ceiling), and their ratio; load comes from a separate process
  (wrk when installed, else ``bench.load``) over loopback;
- backend probes per check during that run versus monitor requests;
- peak RSS of lbhealth with 10, 100 and 1000 configured nodes, and the CPU its
  scheduler uses at a 5 s interval against fast backends;
- high availability (:mod:`bench.ha`): probes per check per interval and answer
  latency with 1 and 3 instances sharing a redis-server, ``--duration`` s each.

Each server runs in its own process (uvicorn, httptools, uvloop, one worker);
the simulated backends run in this one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.ha import bench_ha
from bench.load import LoadResult, run_load
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer

LOAD_INTERVAL = 1.0
STEADY_INTERVAL = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Backends:
    """One counting SimServer on a background loop, one path per check."""

    def __init__(self, paths: int) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        pages = {f"/{i}": IIS_WELCOME for i in range(paths)}
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


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def row(name: str, result: LoadResult) -> str:
    return f"  {name:<12} {result.rps:>10.0f} {result.p50_ms:>9.2f} {result.p99_ms:>9.2f}"


def bench_requests(backends: Backends, args: argparse.Namespace, tool: str) -> None:
    seconds, conns = args.duration, args.connections
    print(f"/health/{{node}}: {conns} connections, {seconds:g} s per app, load from {tool}")
    print(f"  {'app':<12} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    port = free_port()
    bare_url = f"http://127.0.0.1:{port}/health/n0"
    with process([sys.executable, "-m", "bench.bare", str(port)], bare_url):
        bare = run_load(bare_url, conns, seconds, tool)
    print(row("bare ASGI", bare), flush=True)
    hits = backends.server.hits
    before, polled_before, start = sum(hits.values()), hits["/0"], time.monotonic()
    with lbhealth(backends.inventory(args.load_nodes, LOAD_INTERVAL)) as (base, _):
        ours = run_load(f"{base}/health/n0", conns, seconds, tool)
        # T counts from lbhealth's start: its start-up probes are in the count too.
        elapsed = time.monotonic() - start
        probes, per_check = sum(hits.values()) - before, hits["/0"] - polled_before
    print(row("lbhealth", ours))
    print(f"  ratio lbhealth/bare: {ours.rps / bare.rps:.2f} (target >= 0.70; p99 target < 20 ms)")
    bound = elapsed / LOAD_INTERVAL + 1
    print(
        f"backend load while lbhealth ran {elapsed:.1f} s and served {ours.requests} requests"
        f" ({args.load_nodes} checks, interval {LOAD_INTERVAL:g} s):\n"
        f"  probes of the polled check: {per_check} (bound T/interval + 1 = {bound:.1f});"
        f" all checks: {probes} ({probes / args.load_nodes:.1f} per check)\n"
        f"  amplification: {per_check / max(ours.requests, 1):.6f} backend requests"
        " per monitor request",
        flush=True,
    )
    polled_before, start = hits["/0"], time.monotonic()
    with lbhealth(backends.inventory(args.load_nodes, LOAD_INTERVAL), workers=2) as (base, _):
        two = run_load(f"{base}/health/n0", conns, seconds, tool)
        elapsed, per_check = time.monotonic() - start, hits["/0"] - polled_before
    bound = 2 * (elapsed / LOAD_INTERVAL + 1)
    print(
        f"{row('lbhealth -w2', two)}\n  --workers 2: {two.rps / bare.rps:.2f} x bare;"
        f" probes of the polled check: {per_check} in {elapsed:.1f} s"
        f" (each worker probes: bound 2 x (T/interval + 1) = {bound:.1f})",
        flush=True,
    )


def bench_scale(backends: Backends, args: argparse.Namespace) -> None:
    print(
        f"scale: interval {STEADY_INTERVAL:g} s, fast loopback backends,"
        f" CPU over {args.cpu_window:g} s after ready"
    )
    print(f"  {'nodes':>6} {'peak RSS MB':>12} {'scheduler CPU % of one core':>28}")
    for nodes in args.nodes:
        with lbhealth(backends.inventory(nodes, STEADY_INTERVAL)) as (_, proc):
            time.sleep(min(2.0, args.cpu_window))
            cpu_before, start = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.cpu_window)
            cpu = (cpu_seconds(proc.pid) - cpu_before) / (time.monotonic() - start) * 100
            print(f"  {nodes:>6} {peak_rss_mb(proc.pid):>12.1f} {cpu:>28.1f}", flush=True)
    print("  targets with 1000 nodes: RSS < 150 MB, scheduler CPU < 25 %")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per app")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--load-nodes", type=int, default=10, help="nodes during the load run")
    parser.add_argument("--nodes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--cpu-window", type=float, default=10, help="seconds of CPU sampling")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    tool = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
    print(
        f"lbhealth benchmark: {os.cpu_count()} CPU cores, {platform.machine()},"
        f" {platform.system()} {platform.release()}, Python {platform.python_version()}",
        flush=True,
    )
    backends = Backends(max(args.load_nodes, *args.nodes))
    try:
        bench_requests(backends, args, tool)
        bench_scale(backends, args)
        bench_ha(backends.server, args.duration)
    finally:
        backends.close()


if __name__ == "__main__":
    main()
