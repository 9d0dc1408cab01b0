"""CPU per probe: lbhealth against blackbox_exporter on the same pages from the same server.

Both fetch :mod:`bench.pages`' small (~3.7 KB) and large (~350 KB) page from
one nginx on loopback (the Debian ``nginx`` package; the repo's SimServer, in
this process, when nginx is missing), on a new connection per probe, at the
same rate. lbhealth runs ``jsp`` checks on its own schedule (``lbhealth
serve``); blackbox_exporter (Debian ``prometheus-blackbox-exporter``) is asked
for ``/probe`` at that rate with an ``http`` module that reads the body and
matches it against error regexps, as an operator would to catch a JSP error
page. The figure is the CPU time of the prober's process tree over the window
divided by the probes the page server saw in it: everything a probe costs
(scheduling, HTTP, reading the page, verdicts; for blackbox_exporter, also
answering ``/probe``).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.pages import CHANGING, LARGE, SMALL
from bench.procs import free_port, lbhealth, process, tree_cpu_seconds
from lbhealth.demo.simserver import Page, SimServer

PAGES = {"small": SMALL, "large": LARGE}
#: Pages nginx makes different at every request (SSI), measured when nginx serves.
CHANGING_PAGES = {"changing": CHANGING}
#: Probes per second for both probers: 20 checks at a 1 s interval for lbhealth.
RATE = 20
BLACKBOX = "prometheus-blackbox-exporter"
#: blackbox_exporter's modules: ``http_2xx`` reads the body and checks the status
#: only (the issue's baseline); ``regexps`` also matches the body against error
#: markers, the nearest it comes to what lbhealth's jsp check does.
BLACKBOX_MODULES: dict[str, Any] = {
    "http_2xx": {
        "prober": "http",
        "timeout": "5s",
        "http": {"valid_status_codes": [200], "preferred_ip_protocol": "ip4"},
    },
    "regexps": {
        "prober": "http",
        "timeout": "5s",
        "http": {
            "valid_status_codes": [200],
            "preferred_ip_protocol": "ip4",
            "fail_if_body_matches_regexp": [
                r"(?i)exception report|error report|HTTP Status 5\d\d",
                r"\bat [\w$.]+\([\w$]+\.java:\d+\)",
                r"\b[\w.]+(Exception|Error): ",
            ],
        },
    },
}
NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
    uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
    types {{ text/html jsp; }}
    charset utf-8;
    server {{
        listen 127.0.0.1:{port}; root {tmp}/www;
        location = /changing.jsp {{ ssi on; }}
    }}
}}
"""


@dataclass
class PageServer:
    """Where the pages are, and how many requests the server has answered so far."""

    url: Callable[[str], str]
    served: Callable[[], int]
    name: str
    #: The pages it serves: :data:`PAGES`, plus :data:`CHANGING_PAGES` for nginx.
    pages: dict[str, bytes]


@contextmanager
def nginx() -> Iterator[PageServer]:
    """nginx on a free loopback port serving the pages, counting requests in its access log."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        www = Path(tmp, "www")
        www.mkdir()
        for name, body in {**PAGES, **CHANGING_PAGES}.items():
            Path(www, f"{name}.jsp").write_bytes(body)
        conf = Path(tmp, "nginx.conf")
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
        log = Path(tmp, "access.log")
        base = f"http://127.0.0.1:{port}"
        version = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr.strip()
        with process([binary, "-c", str(conf), "-p", tmp], f"{base}/small.jsp"):
            yield PageServer(
                lambda page: f"{base}/{page}.jsp",
                lambda: log.read_bytes().count(b"\n"),
                version.replace("nginx version: ", ""),
                {**PAGES, **CHANGING_PAGES},
            )


@contextmanager
def simserver() -> Iterator[PageServer]:
    """The repo's SimServer on a loop in this process (not measured), when nginx is missing."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    headers = [("Content-Type", "text/html; charset=utf-8")]
    pages = {f"/{name}.jsp": Page(200, headers, body) for name, body in PAGES.items()}
    server = asyncio.run_coroutine_threadsafe(SimServer(pages).start(), loop).result(30)
    try:
        yield PageServer(
            lambda page: server.url(f"/{page}.jsp"),
            lambda: sum(server.hits.values()),
            "SimServer",
            PAGES,
        )
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)


def measure(pid: int, served: Callable[[], int], window: float) -> tuple[float, int]:
    """CPU ms per request the page server saw, over ``window`` seconds."""
    cpu, count = tree_cpu_seconds(pid), served()
    time.sleep(window)
    probes = served() - count
    return (tree_cpu_seconds(pid) - cpu) * 1000 / max(probes, 1), probes


def lbhealth_cost(server: PageServer, page: str, window: float) -> tuple[float, int]:
    checks = [{"kind": "jsp", "url": server.url(page)}]
    inventory: dict[str, Any] = {
        "settings": {"interval": 1, "log_level": "warning"},
        "nodes": {f"n{i}": {"checks": checks} for i in range(RATE)},
    }
    with lbhealth(inventory) as (_, proc):
        time.sleep(min(1.5, window))  # past the start-up probes, which all run at once
        return measure(proc.pid, server.served, window)


@contextmanager
def blackbox_exporter() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "blackbox.yml")
        config.write_text(yaml.safe_dump({"modules": BLACKBOX_MODULES}))
        base = f"http://127.0.0.1:{port}"
        command = [BLACKBOX, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"]
        with process([*command, "--log.level=error"], f"{base}/-/healthy") as proc:
            yield base, proc


def blackbox_cost(server: PageServer, page: str, module: str, window: float) -> tuple[float, int]:
    with blackbox_exporter() as (base, proc), httpx.Client() as client:
        stop = threading.Event()
        failed: list[str] = []

        def drive() -> None:
            """Ask for RATE probes a second, paced, until stopped (in a thread: not measured)."""
            params = {"module": module, "target": server.url(page)}
            tick = time.monotonic()
            while not stop.is_set():
                answer = client.get(f"{base}/probe", params=params, timeout=10)
                if "probe_success 1" not in answer.text:
                    failed.append(answer.text[-300:])
                tick += 1 / RATE
                stop.wait(max(0.0, tick - time.monotonic()))

        driver = threading.Thread(target=drive, daemon=True)
        driver.start()
        try:
            time.sleep(min(1.5, window))
            cost = measure(proc.pid, server.served, window)
        finally:
            stop.set()
            driver.join(15)
        if failed:
            raise RuntimeError(f"blackbox_exporter probes failed: {failed[0]}")
        return cost


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 1)[0]


def bench_probe_cost(window: float) -> None:
    """Print CPU ms per probe of both probers on both pages, and their ratio."""
    has_blackbox = shutil.which(BLACKBOX) is not None
    serve = nginx if shutil.which("nginx") or Path("/usr/sbin/nginx").exists() else simserver
    with serve() as server:
        print(
            f"CPU ms per probe: {server.name} on loopback, {RATE} probes/s, {window:g} s per"
            " figure; lbhealth jsp checks; blackbox_exporter http_2xx, and with body regexps",
            flush=True,
        )
        print(
            f"  {'page':<8} {'bytes':>8} {'lbhealth':>9} {'blackbox':>9} {'ratio':>6}"
            f" {'bb+regexps':>11}  machine load"
        )
        for page, body in server.pages.items():
            ours, probes = lbhealth_cost(server, page, window)
            line = f"  {page:<8} {len(body):>8} {ours:>9.2f}"
            if has_blackbox:
                theirs, _ = blackbox_cost(server, page, "http_2xx", window)
                regexps, _ = blackbox_cost(server, page, "regexps", window)
                line += f" {theirs:>9.2f} {ours / theirs:>6.2f} {regexps:>11.2f}"
            else:
                line += f" {'(blackbox_exporter not installed)':>28}"
            print(f"{line}  {load_average()} ({probes} lbhealth probes)", flush=True)
    print(
        "  floor: ratio (lbhealth / blackbox http_2xx) <= 2; goal: parity"
        " (apt-get install prometheus-blackbox-exporter nginx)\n"
        "  lbhealth reads an answer identical to the check's last one only once;"
        " 'changing' differs at every probe, so every probe is read"
    )
