"""Background refresh: schedule, bounds and fail-safe, by counting at real backends.

Nothing here asserts wall time: probe rates are counted at the backend
(``SimServer.hits``, ``peak_in_flight``) and compared with the bound they must
respect over the time that actually elapsed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import httpx
import pytest

from lbhealth.config import parse_inventory
from lbhealth.core.engine import Engine
from lbhealth.core.limits import ProbeLimits
from lbhealth.core.scheduler import Scheduler, next_delay
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import Page, SimServer
from lbhealth.serve.prebuilt import AnswerBook
from lbhealth.store.admin import AdminStore
from lbhealth.verdict import Status
from tests._inventory import same_kind
from tests._poll import wait_until
from tests._servers import Running

Sim = Callable[..., SimServer]
Serve = Callable[..., Running]


@pytest.mark.parametrize("spread", [0.0, 0.1, 0.5, 1.0])
def test_next_delay_stays_within_interval_and_spread(spread: float) -> None:
    rng = random.Random(5)
    delays = [next_delay(2.0, spread, rng) for _ in range(2000)]
    assert min(delays) >= 2.0
    assert max(delays) <= 2.0 * (1 + spread)
    if spread:  # jitter really spreads checks over the whole allowed range
        assert min(delays) < 2.0 * (1 + spread * 0.05)
        assert max(delays) > 2.0 * (1 + spread * 0.95)


async def test_scheduler_sleeps_interval_plus_jitter_between_probes(sim: Sim) -> None:
    backend = sim({"/": IIS_WELCOME})
    engine = Engine(parse_inventory(same_kind("iis", {"web1": backend.url()}, interval=3), "test"))
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)
        if len(slept) == 5:
            raise asyncio.CancelledError

    scheduler = Scheduler(
        engine.checks["web1"],
        engine.run,
        jitter=0.2,
        limits=ProbeLimits(4, 4),
        sleep=fake_sleep,
        rng=random.Random(1),
    )
    with pytest.raises(asyncio.CancelledError):
        await scheduler.run()
    await engine.aclose()
    assert backend.hits["/"] == 5  # one probe per period, no more
    assert 3.0 <= slept[0] <= 6.0  # the first period spreads checks over a whole interval
    assert all(3.0 <= d <= 3.0 * 1.2 for d in slept[1:])


def test_probes_per_check_bounded_whatever_the_monitor_load(
    sim: Sim, lbhealth_server: Serve
) -> None:
    backend = sim({"/": IIS_WELCOME})
    interval = 0.2
    start = time.monotonic()
    lb = lbhealth_server(same_kind("iis", {"web1": backend.url()}, interval=interval, jitter=0.5))
    monitor_requests = 0
    with httpx.Client() as client:

        def monitor() -> int:
            nonlocal monitor_requests
            assert client.get(f"{lb.url}/health/web1").text == "UP\n"
            monitor_requests += 1
            return backend.hits["/"]

        wait_until(monitor, lambda probes: probes >= 5, step=0)  # monitors poll flat out
    hits = backend.hits["/"]
    elapsed = time.monotonic() - start
    assert hits >= 5
    assert hits <= elapsed / interval + 1
    assert monitor_requests > 5 * hits  # backend load does not follow monitor load


def test_stale_verdict_is_down_while_backend_hangs(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(
        same_kind("iis", {"web1": backend.url()}, interval=0.1, max_age=0.5, timeout=30, jitter=0)
    )
    assert httpx.get(f"{lb.url}/health/web1").text == "UP\n"
    backend.pages["/"] = Page(200, IIS_WELCOME.headers, IIS_WELCOME.body, delay=30)
    wait_until(lambda: backend.in_flight == 1)

    def answer() -> httpx.Response:
        response = httpx.get(f"{lb.url}/health/web1", timeout=5)
        # Every answer comes while the probe still hangs at the backend.
        assert backend.in_flight == 1
        return response

    response = wait_until(answer, lambda r: r.status_code == 503)
    assert response.text.startswith("DOWN: iis: stale: last verdict (UP) is ")
    assert "max_age is 0.5s" in response.text
    assert backend.in_flight == 1


def test_global_limit_bounds_probes_in_flight(sim: Sim, lbhealth_server: Serve) -> None:
    slow = Page(200, IIS_WELCOME.headers, IIS_WELCOME.body, delay=0.3)
    backend = sim({f"/{i}": slow for i in range(12)})
    urls = {f"n{i}": backend.url(f"/{i}") for i in range(12)}
    lbhealth_server(same_kind("iis", urls, max_probes=3, max_probes_per_host=12, interval=60))
    assert sum(backend.hits.values()) == 12  # the start-up round probed every check
    assert backend.peak_in_flight == 3


def test_on_demand_mode_shares_the_probe_limits(sim: Sim, lbhealth_server: Serve) -> None:
    slow = Page(200, IIS_WELCOME.headers, IIS_WELCOME.body, delay=0.3)
    backend = sim({f"/{i}": slow for i in range(12)})
    urls = {f"n{i}": backend.url(f"/{i}") for i in range(12)}
    settings = {"mode": "on-demand", "cache_ttl": 60, "max_probes": 3}
    lb = lbhealth_server(same_kind("iis", urls, max_probes_per_host=12, **settings))
    assert sum(backend.hits.values()) == 12  # the start-up round probed every check
    assert backend.peak_in_flight == 3
    assert httpx.get(f"{lb.url}/nodes").status_code == 200


def test_hung_host_holds_only_its_own_slots(sim: Sim, lbhealth_server: Serve) -> None:
    hung = sim({"/": Page(200, [], b"", delay=30)}, host="127.0.0.2")
    fast = sim({f"/{i}": IIS_WELCOME for i in range(6)})
    urls = {f"hung{i}": hung.url(f"/?{i}") for i in range(6)}
    urls |= {f"fast{i}": fast.url(f"/{i}") for i in range(6)}
    lb = lbhealth_server(
        same_kind("iis", urls, max_probes=3, max_probes_per_host=2, interval=0.2, timeout=30),
        ready=False,
    )
    # Fast checks keep being probed (several rounds) while two probes hang.
    wait_until(lambda: sum(fast.hits.values()), lambda hits: hits >= 24)
    assert hung.in_flight == 2 and hung.peak_in_flight == 2
    assert httpx.get(f"{lb.url}/health/fast0").text == "UP\n"
    assert httpx.get(f"{lb.url}/health/hung0").text == "DOWN: iis: not probed yet\n"


async def test_max_age_turns_the_verdict_and_its_prebuilt_answer_down(sim: Sim) -> None:
    backend = sim({"/": IIS_WELCOME})
    now = [1000.0]
    engine = Engine(
        parse_inventory(same_kind("iis", {"web1": backend.url()}, interval=2, timeout=1), "test"),
        clock=lambda: now[0],
    )
    book = AnswerBook(engine, AdminStore(engine.inventory))
    check = engine.checks["web1"][0]
    assert check.max_age == 3 * 2 + 1  # the default: three missed periods plus a timeout
    assert engine.current(check).reason == "not probed yet"
    await engine.run(check)
    await engine.aclose()
    answer = book.answers["web1"]
    assert (answer.answer.code, answer.answer.body) == (200, b"UP\n") and answer.expires == 1007.0
    now[0] = 1007.0
    assert engine.current(check).status is Status.UP
    now[0] = 1007.5
    verdict = await engine.node("web1")
    assert verdict.status is Status.DOWN
    assert verdict.reason == "iis: stale: last verdict (UP) is 8s old, max_age is 7s"
