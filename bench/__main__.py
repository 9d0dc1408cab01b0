"""``./dev bench`` (``python -m bench``): lbhealth under monitor load, measured.

Prints, in one run on one machine:

- requests/s, p50 and p99 of ``/health/{node}`` for lbhealth and for a bare
  ASGI app sending the same bytes under the same uvicorn settings (the
  stack's ceiling), and their ratio; load comes from a separate process
  (wrk when installed, else ``bench.load``) over loopback;
- backend probes per check during that run versus monitor requests;
- peak RSS of lbhealth with 10, 100 and 1000 configured nodes, and the CPU its
  scheduler uses at a 5 s interval against fast backends (probe process included);
- every monitor poll's answer and the worst latency during a 1,500-connection
  flood from another loopback address (``bench.flood``);
- CPU ms per probe for lbhealth and blackbox_exporter on a small and a large
  page served by nginx (``bench.probe_cost``);
- a monitor's p50/p99 alone and under 100 probes/s of 350 KB pages, and the share
  of scheduled probes done (``bench.isolation``);
- detection time through a real HAProxy, via lbhealth and direct (``bench.detection``);
- high availability (:mod:`bench.ha`): probes per check per interval and answer
  latency with 1 and 3 instances sharing a redis-server, ``--duration`` s each.

Each server runs in its own process (uvicorn, httptools, uvloop, one worker);
the simulated backends run in this one.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from collections.abc import Sequence

from bench.backends import Backends
from bench.detection import INTERVAL, detection_runs, report
from bench.flood import bench_flood
from bench.ha import bench_ha
from bench.isolation import bench_isolation
from bench.load import LoadResult, run_load
from bench.probe_cost import bench_probe_cost
from bench.procs import free_port, lbhealth, peak_rss_mb, process, tree_cpu_seconds
from lbhealth.demo.cluster import JBOSS_WELCOME

LOAD_INTERVAL = 1.0
STEADY_INTERVAL = 5.0
PARTS = ["requests", "scale", "ha", "flood", "cost", "isolation", "detection"]


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
            cpu_before, start = tree_cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.cpu_window)
            cpu = (tree_cpu_seconds(proc.pid) - cpu_before) / (time.monotonic() - start) * 100
            print(f"  {nodes:>6} {peak_rss_mb(proc.pid):>12.1f} {cpu:>28.1f}", flush=True)
    print("  targets with 1000 nodes: RSS < 150 MB, scheduler CPU < 25 %")


def bench_detection(args: argparse.Namespace) -> None:
    binary = shutil.which("haproxy")
    if binary is None:
        print("detection: skipped, no haproxy installed (apt-get install haproxy)")
        return
    print(
        f"detection through a real HAProxy: a JBoss welcome page turns into a 500 error report,"
        f" {args.detection_runs} runs; lbhealth at its defaults"
        + (f", every timing x {args.detection_scale:g}" if args.detection_scale != 1 else "")
    )
    backends = Backends(0, {"/": JBOSS_WELCOME})
    try:
        pages = backends.server.pages
        nodes = {"app1": {"checks": [{"kind": "jboss", "url": backends.server.url("/")}]}}
        settings = {"log_level": "warning", "interval": INTERVAL * args.detection_scale}
        inventory = {"settings": settings, "nodes": nodes}
        with lbhealth(inventory) as (base, _):
            address = backends.server.url("/").split("//")[1].rstrip("/")
            lbhealth_address = base.split("//")[1]
            runs, scale = args.detection_runs, args.detection_scale
            times = detection_runs(binary, pages, address, lbhealth_address, runs, scale)
        print(report(times, args.detection_scale), flush=True)
    finally:
        backends.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per app")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--load-nodes", type=int, default=10, help="nodes during the load run")
    parser.add_argument("--nodes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--cpu-window", type=float, default=10, help="seconds of CPU sampling")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--flood-connections", type=int, default=1500)
    parser.add_argument("--cost-window", type=float, default=10, help="seconds per CPU figure")
    parser.add_argument("--detection-runs", type=int, default=5)
    parser.add_argument(
        "--detection-scale", type=float, default=1.0, help="multiply detection timings (smoke)"
    )
    parser.add_argument(
        "--isolation-checks", type=int, default=200, help="350 KB pages probed every 2 s"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        help="run these parts only",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    tool = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
    print(
        f"lbhealth benchmark: {os.cpu_count()} CPU cores, {platform.machine()},"
        f" {platform.system()} {platform.release()}, Python {platform.python_version()}",
        flush=True,
    )
    parts = set(args.only or PARTS)
    if parts & {"requests", "scale", "ha", "flood"}:
        backends = Backends(max(args.load_nodes, *args.nodes))
        try:
            if "requests" in parts:
                bench_requests(backends, args, tool)
            if "scale" in parts:
                bench_scale(backends, args)
            if "ha" in parts:
                bench_ha(backends.server, args.duration)
            if "flood" in parts:
                inventory = backends.inventory(1, LOAD_INTERVAL)
                bench_flood(inventory, args.duration, args.flood_connections)
        finally:
            backends.close()
    if "cost" in parts:
        bench_probe_cost(args.cost_window)
    if "isolation" in parts:
        bench_isolation(args.duration, 16, tool, args.isolation_checks)
    if "detection" in parts:
        bench_detection(args)


if __name__ == "__main__":
    main()
