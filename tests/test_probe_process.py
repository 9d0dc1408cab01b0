"""Probing runs in its own process: the serving side only records results.

The pages are read, and the probes run, in a child process; the serving
process answers monitors from what the child reports. These tests watch that
from the outside: which process reads pages, what happens when the child dies,
and that it never outlives the service.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lbhealth.config import parse_inventory
from lbhealth.core import checks as checks_module
from lbhealth.core import readings as readings_module
from lbhealth.core.checks import Check, build_checks
from lbhealth.core.lag import ScheduleLag
from lbhealth.core.limits import ProbeLimits
from lbhealth.core.scheduler import Scheduler
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._inventory import same_kind, write
from tests._poll import wait_ready, wait_until
from tests._process import gone, lbhealth_command, running
from tests._servers import Running, free_port

Sim = Callable[..., SimServer]
Serve = Callable[..., Running]


def web1_inventory(url: str, **settings: Any) -> dict[str, Any]:
    """One node, web1, checked by its IIS page at ``url``."""
    return same_kind("iis", {"web1": url}, **settings)


def verbose_readyz(url: str) -> str:
    return httpx.get(f"{url}/readyz?verbose").text


@pytest.mark.parametrize("in_child", [True, False])
def test_pages_are_read_in_the_probe_process_never_in_the_serving_one(
    sim: Sim, lbhealth_server: Serve, monkeypatch: pytest.MonkeyPatch, in_child: bool
) -> None:
    read_here: list[str] = []
    interpret = readings_module.interpret

    def spy(kind: str, *args: Any) -> Any:
        read_here.append(kind)
        return interpret(kind, *args)

    for module in (readings_module, checks_module):  # every way to a reading; this process only
        monkeypatch.setattr(module, "interpret", spy)
    backend = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(web1_inventory(backend.url(), interval=0.2, probe_process=in_child))
    wait_until(lambda: backend.hits["/"], lambda hits: hits >= 3)
    assert httpx.get(f"{lb.url}/health/web1").text == "UP\n"
    # In the child the spy never runs; the control shows it would have seen every read.
    assert (read_here == []) is in_child
    assert ("probe-process" in verbose_readyz(lb.url)) is in_child


def test_a_killed_probe_process_is_restarted_and_probing_goes_on(
    sim: Sim, lbhealth_server: Serve
) -> None:
    backend = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(web1_inventory(backend.url(), interval=0.2))
    prober = lb.app.prober
    assert prober is not None and prober.alive
    first = prober.pid
    assert first is not None and f"[+]probe-process (pid {first}) ok" in verbose_readyz(lb.url)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: (prober.restarts, prober.alive), lambda seen: seen == (1, True))
    assert prober.pid != first
    before = backend.hits["/"]
    wait_until(lambda: backend.hits["/"], lambda hits: hits >= before + 3)
    assert httpx.get(f"{lb.url}/health/web1").text == "UP\n"
    assert f"[+]probe-process (pid {prober.pid}) ok" in verbose_readyz(lb.url)
    metrics = httpx.get(f"{lb.url}/metrics").text
    assert "lbhealth_probe_process_up 1.0" in metrics
    assert "lbhealth_probe_process_restarts_total 1.0" in metrics


def test_the_probe_process_does_not_outlive_a_killed_service(sim: Sim, tmp_path: Path) -> None:
    backend = sim({"/": IIS_WELCOME})
    config = write(tmp_path / "inventory.yaml", web1_inventory(backend.url(), interval=0.2))
    port = free_port()
    command = lbhealth_command("serve", "--config", str(config), "--port", str(port))
    with running(command, tmp_path / "serve.log") as service:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, process=service)
        line = next(x for x in verbose_readyz(url).splitlines() if "probe-process" in x)
        child = int(line.split("(pid ")[1].split(")")[0])
        assert not gone(child)
        service.kill()
        service.wait(10)
    wait_until(lambda: gone(child), bool)  # the closed pipe stopped it


def test_probe_lateness_over_a_tenth_of_the_window_is_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    lag = ScheduleLag(clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="lbhealth.scheduler"):
        for _ in range(9):
            lag.started(0.0, 2.0)
        lag.started(3.0, 2.0)  # 1 late of 10: not more than a tenth
        assert not lag.report().behind
        lag.started(0.6, 2.0)  # 0.6s is above 0.5s and a quarter of the interval
        report = lag.report()
        assert (report.probes, report.late, report.behind) == (11, 2, True)
        assert report.max_lag == 3.0 and lag.late_total == 2
        now[0] = 61.0  # the window moves on; on-time probes only
        lag.started(0.1, 2.0)
        assert not lag.report().behind
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "fall behind their schedule" in warnings[0].getMessage()
    assert any("keep their schedule again" in r.getMessage() for r in caplog.records)


def test_a_probe_waiting_for_a_slot_counts_its_wait_as_lateness() -> None:
    """Lateness is measured from the planned start to the probe's real start."""
    lag = ScheduleLag()
    assert lag.report().probes == 0
    lag.started(0.2, 10.0)  # 0.2s late on a 10s interval: under both thresholds
    lag.started(2.6, 10.0)  # a quarter of 10s is 2.5s: late
    assert (lag.report().late, lag.late_total) == (1, 1)


async def test_a_change_building_up_is_confirmed_after_fastinter() -> None:
    data = web1_inventory("http://127.0.0.1:9/", interval=5, fastinter="300ms")
    data["nodes"]["web1"]["checks"][0]["fall"] = 2
    check: Check = build_checks(parse_inventory(data, "test"))["web1"][0]
    delays: list[float] = []
    changing = iter([False, True, True, False, False])

    async def probe(_: Check) -> None:
        return None

    async def sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 5:
            raise asyncio.CancelledError

    scheduler = Scheduler(
        [check],
        probe,
        jitter=0.0,
        limits=ProbeLimits(4, 4),
        sleep=sleep,
        rng=random.Random(1),
        changing=lambda _: next(changing),
        fastinter=0.3,
    )
    with pytest.raises(asyncio.CancelledError):
        await scheduler.run()
    # The first period spreads checks over one more interval; then 5s, except while
    # a change builds up, when the check is probed again after fastinter.
    assert delays[1:] == [0.3, 0.3, 5.0, 5.0]
    assert 5.0 <= delays[0] <= 10.0
