"""An answer identical to a check's last one is not read again; any meaningful change is.

The memory is exact or useless: these tests change one thing at a time (a
byte, the status, a header an interpreter reads, the cut flag, the rules) and
require a fresh reading with the right verdict, and change what no interpreter
reads (``Date``, ``Set-Cookie``) and require none. The engine's memory is
driven through real HTTP answers from a real server.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from bench.pages import LARGE
from lbhealth.config import parse_inventory
from lbhealth.core.engine import Engine
from lbhealth.core.readings import Readings, fingerprint
from lbhealth.demo.simserver import Page, SimServer
from lbhealth.interpret import INTERPRETERS, Answer, Rules, interpret
from lbhealth.verdict import Status
from tests._cases import SAMPLES, load_case
from tests._inventory import inventory, node

Sim = Callable[..., SimServer]

HEALTHY = load_case(SAMPLES / "jsp-login-page")
BROKEN = load_case(SAMPLES / "jsp-200-with-npe-stack-trace")
KEY = ("app1", "jsp")


def answer(
    body: bytes = HEALTHY.body,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=UTF-8"),),
    truncated: bool = False,
) -> Answer:
    return Answer(status, headers, body, truncated)


def test_the_same_answer_is_read_once_and_means_the_same() -> None:
    readings = Readings()
    first = readings.outcome(KEY, "jsp", answer(), Rules())
    again = readings.outcome(KEY, "jsp", answer(), Rules())
    assert first.status is Status.UP
    assert again == first == interpret("jsp", answer(), Rules())
    assert (readings.read, readings.reused) == (1, 1)


def test_headers_no_interpreter_reads_do_not_make_a_new_answer() -> None:
    readings = Readings()
    base = (("Content-Type", "text/html"),)
    for second in range(3):
        date = f"Tue, 01 Dec 2026 17:00:0{second} GMT"
        volatile = (("Date", date), ("Set-Cookie", f"s={second}"))
        readings.outcome(KEY, "jsp", answer(headers=base + volatile), Rules())
    assert (readings.read, readings.reused) == (1, 2)


def test_one_changed_byte_is_read_again_and_can_change_the_verdict() -> None:
    readings = Readings()
    body = b"<html><title>Console</title><p>all fine</p></html>"
    worse = body.replace(b"all fine", b"java.lang.NullPointerException")
    changed = body.replace(b"all fine", b"all fin.")
    assert readings.outcome(KEY, "jsp", answer(body), Rules()).status is Status.UP
    assert readings.outcome(KEY, "jsp", answer(changed), Rules()).status is Status.UP
    down = readings.outcome(KEY, "jsp", answer(worse), Rules())
    assert down.status is Status.DOWN and "NullPointerException" in down.reason
    assert readings.read == 3 and readings.reused == 0


@pytest.mark.parametrize(
    "changed",
    [
        answer(status=500),
        answer(truncated=True),
        answer(headers=(("Content-Type", "text/html; charset=windows-1252"),)),
        answer(headers=(*answer().headers, ("Server", "Microsoft-IIS/10.0"))),
        answer(headers=()),
    ],
    ids=["status", "cut", "charset", "server", "no-content-type"],
)
def test_what_an_interpreter_reads_makes_a_new_answer(changed: Answer) -> None:
    readings = Readings()
    readings.outcome(KEY, "jsp", answer(), Rules())
    assert fingerprint(changed) != fingerprint(answer())
    assert readings.outcome(KEY, "jsp", changed, Rules()) == interpret("jsp", changed, Rules())
    assert readings.read == 2


def test_only_the_server_header_changing_is_read_again() -> None:
    """IIS names the server it saw: a proxy answering instead of IIS is a new reading."""
    readings = Readings()
    iis = answer(headers=(*answer().headers, ("Server", "Microsoft-IIS/10.0")))
    proxy = answer(headers=(*answer().headers, ("Server", "nginx")))
    first = readings.outcome(KEY, "iis", iis, Rules())
    second = readings.outcome(KEY, "iis", proxy, Rules())
    assert first.details["server"] == "Microsoft-IIS/10.0" and "not IIS" not in first.reason
    assert second.details["server"] == "nginx" and "not IIS" in second.reason
    assert readings.read == 2


def test_one_byte_changed_at_the_end_of_a_large_page_is_read_again() -> None:
    readings = Readings()
    healthy = LARGE.replace(b"All rights reserved.", b"All rights reserved!")
    broken = LARGE.replace(b"All rights reserved.", b"java.lang.OutOfMemoryError")
    assert len(healthy) == len(LARGE) and len(LARGE) - LARGE.index(b"All rights") < 200
    assert readings.outcome(KEY, "jsp", answer(LARGE), Rules()).status is Status.UP
    assert readings.outcome(KEY, "jsp", answer(healthy), Rules()).status is Status.UP
    assert readings.outcome(KEY, "jsp", answer(broken), Rules()).status is Status.DOWN
    assert (readings.read, readings.reused) == (3, 0)


def test_other_rules_or_kind_or_check_read_again() -> None:
    readings = Readings()
    readings.outcome(KEY, "jsp", answer(), Rules())
    expecting = Rules(expect=re.compile("Dashboard"))
    outcome = readings.outcome(KEY, "jsp", answer(), expecting)
    assert outcome.status is Status.DOWN and outcome == interpret("jsp", answer(), expecting)
    assert readings.outcome(KEY, "http", answer(), expecting).status is Status.DOWN
    readings.outcome(("app2", "jsp"), "jsp", answer(), Rules())
    assert (readings.read, readings.reused) == (4, 0)
    readings.forget(KEY)
    readings.outcome(KEY, "http", answer(), expecting)
    assert readings.read == 5


def test_interpreters_may_read_only_the_headers_the_fingerprint_covers() -> None:
    with pytest.raises(KeyError, match="Date"):
        answer().header("Date")
    # Every interpreter reads a page with all sorts of headers without asking for another.
    crowded = answer(headers=(("Date", "x"), ("ETag", '"1"'), ("Server", "JBoss"), ("X-A", "b")))
    for kind in INTERPRETERS:
        interpret(kind, crowded, Rules())


async def test_engine_reads_a_backend_page_again_only_when_it_changed(sim: Sim) -> None:
    backend = sim({"/app.jsp": HEALTHY.page()})
    config = inventory({"app1": node("jsp", backend.url("/app.jsp"))}, interval=1)
    engine = Engine(parse_inventory(config, "test"))
    check = engine.checks["app1"][0]
    try:
        assert (await engine.run(check)).status is Status.UP
        assert (await engine.run(check)).status is Status.UP
        assert (engine.readings.read, engine.readings.reused) == (1, 1)
        backend.pages["/app.jsp"] = BROKEN.page()
        result = await engine.run(check)
        assert result.status is Status.DOWN and "NullPointerException" in result.reason
        assert (engine.readings.read, engine.readings.reused) == (2, 1)
        backend.pages["/app.jsp"] = Page(200, HEALTHY.headers, HEALTHY.body)
        assert (await engine.run(check)).status is Status.UP
        assert engine.readings.read == 3
        assert backend.hits["/app.jsp"] == 4  # every run probed; only the reading was spared
        other = inventory({"app2": node("jsp", backend.url("/other.jsp"))}, interval=1)
        engine.reconfigure(parse_inventory(other, "test"))
        assert len(engine.readings) == 0  # a removed check's memory goes with it
    finally:
        await engine.aclose()


async def test_a_probe_outliving_its_check_leaves_no_reading_behind(sim: Sim) -> None:
    """A reload removes a check while its probe is in flight: nothing of it is kept."""
    backend = sim({"/app.jsp": Page(200, HEALTHY.headers, HEALTHY.body, delay=0.3)})
    engine = Engine(parse_inventory(inventory({"app1": node("jsp", backend.url("/app.jsp"))}), "t"))
    check = engine.checks["app1"][0]
    try:
        probe = asyncio.ensure_future(engine.run(check))
        await wait_for(lambda: backend.in_flight == 1)
        other = inventory({"app2": node("jsp", backend.url("/other.jsp"))})
        engine.reconfigure(parse_inventory(other, "t"))
        assert (await probe).status is Status.UP  # still answered to whoever asked
        assert len(engine.readings) == 0 and engine.readings.read == 0  # read, not remembered
        assert engine.verdicts.get(check.key) is None
    finally:
        await engine.aclose()


async def wait_for(condition: Callable[[], bool], deadline: float = 10.0) -> None:
    """Yield to the loop until ``condition`` holds, within ``deadline`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        assert loop.time() < end, "condition not met before the deadline"
        await asyncio.sleep(0.01)
