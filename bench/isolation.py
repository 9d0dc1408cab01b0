"""A monitor's answer under probe load: alone, and while 100 probes/s read 350 KB pages.

The floors (issue 14): the monitor's p99 under that load at most 3 times its p99
alone plus 5 ms, and at least 85 % of the scheduled probes done. Measured with
the probes in their own process (the default) and, for comparison, on the
serving loop (``probe_process: false``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.backends import Backends
from bench.load import LoadResult, run_load
from bench.procs import lbhealth
from lbhealth.demo.cluster import JSP_LOGIN
from lbhealth.demo.simserver import Page

#: Probes per second of the heavy run: ``checks`` checks (200) every INTERVAL seconds.
INTERVAL = 2.0
PAGE_BYTES = 350 * 1024


def big_page() -> Page:
    """A real-looking JSP page of about 350 KB: the login page with a long table in it."""
    head, _, tail = JSP_LOGIN.body.partition(b"</body>")
    rows = []
    size, i = len(JSP_LOGIN.body), 0
    while size < PAGE_BYTES:
        row = (
            f'<tr class="r{i % 2}"><td>{i}</td><td><a href="/system/web/view/item.jsp?id={i}">'
            f"Knowledge base article {i}</a></td><td>Published</td></tr>\n"
        ).encode()
        rows.append(row)
        size, i = size + len(row), i + 1
    body = head + b"<table>" + b"".join(rows) + b"</table></body>" + tail
    return Page(200, JSP_LOGIN.headers, body)


def inventory(backends: Backends, checks: int, in_process: bool) -> dict[str, Any]:
    """One polled node, plus ``checks`` jsp checks of the big pages."""
    nodes: dict[str, Any] = {"n0": {"checks": [{"kind": "iis", "url": backends.server.url("/0")}]}}
    for i in range(checks):
        url = backends.server.url(f"/big/{i}")
        nodes[f"big{i}"] = {"checks": [{"kind": "jsp", "url": url}]}
    settings = {"interval": INTERVAL, "log_level": "warning", "probe_process": in_process}
    return {"settings": settings, "nodes": nodes}


@dataclass(frozen=True)
class Run:
    monitor: LoadResult
    probes: int
    scheduled: float

    @property
    def kept(self) -> float:
        return self.probes / self.scheduled if self.scheduled else 1.0


def measure(
    backends: Backends, checks: int, in_process: bool, seconds: float, conns: int, tool: str
) -> Run:
    hits = backends.server.hits

    def big_hits() -> int:
        return sum(n for path, n in hits.items() if path.startswith("/big/"))

    with lbhealth(inventory(backends, checks, in_process)) as (base, _):
        before = big_hits()
        monitor = run_load(f"{base}/health/n0", conns, seconds, tool)
        probes = big_hits() - before
    scheduled = checks * seconds / INTERVAL
    return Run(monitor, probes, scheduled)


def bench_isolation(seconds: float, conns: int, tool: str, checks: int) -> None:
    page = big_page()
    pages = {f"/big/{i}": page for i in range(checks)}
    size = len(pages["/big/0"].body) // 1024
    print(
        f"monitor under probe load: /health/n0 with {conns} connections for {seconds:g} s;"
        f" load: {checks} jsp checks of {size} KB pages every {INTERVAL:g} s"
        f" ({checks / INTERVAL:.0f} probes/s)"
    )
    print(f"  {'probes run':<26} {'load':<6} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'kept':>6}")
    backends = Backends(1, pages)
    try:
        for label, in_process in (("in the probe process", True), ("on the serving loop", False)):
            alone = measure(backends, 0, in_process, seconds, conns, tool)
            loaded = measure(backends, checks, in_process, seconds, conns, tool)
            for name, run in (("none", alone), (f"{checks / INTERVAL:g}/s", loaded)):
                m = run.monitor
                kept = f"{100 * run.kept:.0f}%" if name != "none" else "-"
                print(
                    f"  {label:<26} {name:<6} {m.p50_ms:>8.2f} {m.p99_ms:>8.2f}"
                    f" {m.rps:>8.0f} {kept:>6}",
                    flush=True,
                )
            floor = 3 * alone.monitor.p99_ms + 5
            verdict = "meets" if loaded.monitor.p99_ms <= floor else "MISSES"
            print(
                f"    {label}: p99 under load {loaded.monitor.p99_ms:.2f} ms {verdict} the floor"
                f" 3 x {alone.monitor.p99_ms:.2f} + 5 = {floor:.2f} ms; probes kept"
                f" {100 * loaded.kept:.0f}% of schedule (floor 85%)",
                flush=True,
            )
    finally:
        backends.close()
