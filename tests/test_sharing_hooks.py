"""The hooks that let a shared store and the verdict file into the probe flow, without Redis.

``Engine.accept`` serves a result probed elsewhere exactly like one probed here
(same freshness rule, converted from wall to monotonic time), and only a newer
one; the scheduler's gate skips probes and fails open; the verdict file keeps
results across restarts and gives back only the fresh ones of unchanged checks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lbhealth.app.sharing import VerdictKeeper
from lbhealth.config import parse_inventory
from lbhealth.core.checks import Check
from lbhealth.core.engine import Engine
from lbhealth.core.flap import Flap
from lbhealth.core.limits import ProbeLimits
from lbhealth.core.scheduler import Scheduler
from lbhealth.core.sharing import KeyIndex, lease_ttl, shared_key
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from lbhealth.serve.prebuilt import AnswerBook
from lbhealth.store.admin import AdminStore
from lbhealth.store.shared import SharedResult
from lbhealth.store.verdict_file import read_verdict_file, write_verdict_file
from lbhealth.text.clean import MAX_REASON
from lbhealth.verdict import CheckResult, Status

Sim = Callable[..., SimServer]


class Clocks:
    """A monotonic and a wall clock that tests move by hand (wall is 1.7e9 ahead)."""

    def __init__(self) -> None:
        self.now = 100.0

    def mono(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + 1_700_000_000.0


def engine(clocks: Clocks, **check: Any) -> Engine:
    spec = {"kind": "iis", "url": "http://127.0.0.1:9/", **check}
    data = {"settings": {"interval": 2, "timeout": 1}, "nodes": {"web1": {"checks": [spec]}}}
    return Engine(parse_inventory(data, "test"), clock=clocks.mono, wall_clock=clocks.wall)


def result(status: Status, reason: str, checked_at: float) -> CheckResult:
    return CheckResult("iis", "iis", "http://127.0.0.1:9/", status, reason, 0.01, checked_at)


def test_accept_serves_a_result_from_elsewhere_while_fresh_and_only_a_newer_one() -> None:
    clocks = Clocks()
    eng = engine(clocks)
    (check,) = eng.checks["web1"]
    book = AnswerBook(eng, AdminStore(eng.inventory))
    probed = clocks.wall() - 3.0
    assert eng.accept(check, result(Status.UP, "IIS answered", probed), probed)
    stored = eng.verdicts.get(check.key)
    assert stored is not None and stored.probed_at == pytest.approx(clocks.now - 3.0)
    assert eng.probed_all  # ready at once: no "not probed yet"
    assert eng.current(check).status is Status.UP
    assert book.answers["web1"].answer.body == b"UP\n"  # the prebuilt answer follows
    older = clocks.wall() - 5.0
    assert not eng.accept(check, result(Status.DOWN, "old news", older), older)
    assert eng.current(check).status is Status.UP
    # The same freshness rule as a local probe: max_age (3*2+1 s) after the probe.
    clocks.now += check.max_age - 3.0 + 0.1
    assert eng.current(check).reason.startswith("stale: last verdict (UP)")


def test_accept_takes_a_time_ahead_of_this_clock_as_now_and_ignores_replaced_checks() -> None:
    clocks = Clocks()
    eng = engine(clocks)
    (check,) = eng.checks["web1"]
    ahead = clocks.wall() + 30.0  # another host's clock runs ahead
    assert eng.accept(check, result(Status.UP, "ok", ahead), ahead)
    stored = eng.verdicts.get(check.key)
    assert stored is not None and stored.probed_at == clocks.now
    replaced = dataclasses.replace(check, timeout=9.0)
    assert not eng.accept(replaced, result(Status.DOWN, "x", ahead + 1), ahead + 1)


def test_an_adopted_result_is_where_a_flap_streak_starts() -> None:
    flap, key = Flap(), ("web1", "iis")
    flap.adopt(key, result(Status.UP, "ok", 1.0))
    held = flap.apply(key, 1, 2, result(Status.DOWN, "boom", 2.0))
    assert (held.status, held.details["held"]) == (Status.UP, "DOWN 1 of 2 needed")
    assert flap.apply(key, 1, 2, result(Status.DOWN, "boom", 3.0)).status is Status.DOWN


def test_a_check_is_shared_only_with_instances_that_probe_it_the_same_way() -> None:
    clocks = Clocks()
    (check,) = engine(clocks).checks["web1"]
    assert shared_key(check) == shared_key(engine(clocks).checks["web1"][0])
    assert shared_key(check).startswith("web1/iis/")
    changed = [
        engine(clocks, expect="Welcome"),
        engine(clocks, timeout=2),
        engine(clocks, expect_status=["200", "302"]),
        engine(clocks, url="http://127.0.0.1:9/other"),
        engine(clocks, headers={"Host": "eim.example.com"}),
        engine(clocks, headers={"Host": "wim.example.com"}),
        engine(clocks, headers={"Authorization": "Basic dXNlcjpwYXNz"}),  # a credential, or none
        engine(clocks, url="http://ops:secret-1@127.0.0.1:9/"),
    ]
    keys = {shared_key(e.checks["web1"][0]) for e in changed}
    assert len(keys | {shared_key(check)}) == len(changed) + 1
    assert lease_ttl(check, 0.1) > check.interval * 1.1  # outlives the holder's longest period


@pytest.mark.parametrize(
    "secret",
    [
        {"headers": {"Authorization": "Bearer {}"}},
        {"headers": {"Cookie": "JSESSIONID={}; lang=en", "X-Api-Key": "{}"}},
        {"url": "http://ops:{}@127.0.0.1:9/"},
    ],
)
def test_a_shared_key_digests_no_credential(secret: dict[str, Any]) -> None:
    """The key is shown in Redis and the verdict file: two passwords give the same key, so
    nobody can try a dictionary of passwords against its digest."""
    clocks = Clocks()
    keys = set()
    for password in ("hunter2-Pass-0001", "correct-Horse-0002"):
        spec = json.loads(json.dumps(secret).replace("{}", password))
        keys.add(shared_key(engine(clocks, **spec).checks["web1"][0]))
    assert len(keys) == 1


async def test_the_gate_skips_probes_and_fails_open(sim: Sim) -> None:
    backend = sim({"/": IIS_WELCOME})
    data = {"settings": {"interval": 1}, "nodes": {"web1": {"checks": [{"kind": "iis"}]}}}
    data["nodes"]["web1"]["checks"][0]["url"] = backend.url()
    eng = Engine(parse_inventory(data, "test"))
    asked: list[str] = []

    async def run(gate: Callable[[Check], Any]) -> None:
        periods = 0

        async def sleep(_: float) -> None:
            nonlocal periods
            periods += 1
            if periods == 4:
                raise asyncio.CancelledError

        scheduler = Scheduler(
            eng.checks["web1"],
            eng.run,
            jitter=0.1,
            limits=ProbeLimits(4, 4),
            sleep=sleep,
            rng=random.Random(1),
            gate=gate,
        )
        with pytest.raises(asyncio.CancelledError):
            await scheduler.run()

    async def another_holds_it(check: Check) -> bool:
        asked.append(check.name)
        return False

    async def broken(check: Check) -> bool:
        raise RuntimeError("gate bug")

    await run(another_holds_it)
    assert (asked, backend.hits["/"]) == (["iis"] * 4, 0)  # asked each period, never probed
    await run(broken)
    assert backend.hits["/"] == 4  # a failing gate lets every probe run
    await eng.aclose()


def test_the_verdict_file_gives_back_fresh_results_of_unchanged_checks(tmp_path: Path) -> None:
    clocks = Clocks()
    eng = engine(clocks)
    (check,) = eng.checks["web1"]
    index, path = KeyIndex(eng), tmp_path / "verdicts.json"
    fresh = SharedResult(shared_key(check), result(Status.UP, "ok", 1.0), clocks.wall() - 1, "i1")
    stale = dataclasses.replace(fresh, probed_at=clocks.wall() - check.max_age - 1)
    foreign = dataclasses.replace(fresh, key="web1/iis/000000000000")
    write_verdict_file(path, [fresh, foreign])
    assert read_verdict_file(path) == [fresh, foreign]
    assert [index.accept(s) for s in read_verdict_file(path)] == [True, False]
    assert eng.current(check).status is Status.UP
    other = engine(clocks)
    write_verdict_file(path, [stale])
    assert [KeyIndex(other).accept(s) for s in read_verdict_file(path)] == [False]
    assert other.current(other.checks["web1"][0]).reason == "not probed yet"  # never UP
    assert not other.probed_all  # not ready on a stale verdict
    assert read_verdict_file(tmp_path / "missing.json") == []
    path.write_text("{not json")
    with pytest.raises(ValueError, match="unreadable verdict file"):
        read_verdict_file(path)


GOOD = {
    "name": "iis",
    "kind": "iis",
    "target": "http://127.0.0.1:9/",
    "status": "UP",
    "reason": "IIS answered",
    "latency_ms": 1.5,
    "checked_at": 1_700_000_000.0,
}


@pytest.mark.parametrize(
    ("item", "named"),
    [
        ({"result": "oops"}, "result must be an object, not str"),
        ({"probed_at": 10**400}, "probed_at is out of range"),
        ({"probed_at": float("nan")}, "probed_at must be finite"),
        ({"probed_at": "1.5"}, "probed_at must be a number, not str"),
        ({"result": {**GOOD, "latency_ms": -(10**400)}}, "latency_ms is out of range"),
        ({"result": {**GOOD, "checked_at": float("inf")}}, "checked_at must be finite"),
        ({"result": {**GOOD, "status": "MAYBE\x1b[2J"}}, "status must be UP or DOWN, not 'MAYBE"),
        ({"result": {**GOOD, "status": ["UP"]}}, "status must be text, not list"),
        ({"result": {**GOOD, "details": ["x"]}}, "details must be an object, not list"),
        ({"result": {k: v for k, v in GOOD.items() if k != "reason"}}, "reason is missing"),
        ({"key": None}, "key must be text, not NoneType"),
        ({"by": {}}, "by must be text, not dict"),
    ],
)
async def test_a_bad_verdict_file_entry_is_skipped_and_named_and_the_rest_served(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, item: dict[str, Any], named: str
) -> None:
    """A damaged entry (or one written by hand) never stops the start: it is skipped, one log
    line names it and why, and the file's other results are served."""
    clocks = Clocks()
    eng = engine(clocks)
    (check,) = eng.checks["web1"]
    path = tmp_path / "verdicts.json"
    eng.inventory.settings.verdict_file = path
    good = {"key": shared_key(check), "by": "i1", "probed_at": clocks.wall() - 1, "result": GOOD}
    entries = [{**good, **item}, good]
    path.write_text(json.dumps({"version": 1, "verdicts": entries}))
    assert await VerdictKeeper(eng).load() == 1
    assert eng.current(check).reason == "IIS answered"
    (line,) = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert "1 of 2 entries skipped: verdicts[0]: not a shared result: " in line
    assert named in line and "\x1b" not in line


def test_results_read_back_are_cleaned_and_bounded_like_any_backend_text() -> None:
    """A store or a file holds text anyone may have written: it is shown only as one bounded,
    printable line, the state token defused, like a backend's own."""
    long = "E" * 5000
    written = {
        **GOOD,
        "reason": f"boom\r\nx-lbhealth-state: up\x1b[2J {long}",
        "target": "http://127.0.0.1:9/\u202e\nlbhealth-state: up",
        "name": "iis\x00",
        "details": {"server": f"IIS\x9b2J {long}", "rows": [{"cell\n": "a\u2028b"}]},
    }
    result = CheckResult.from_json(written)
    assert len(result.reason) <= MAX_REASON and result.reason.startswith("boom x-lbhealth_state")
    assert result.target == "http://127.0.0.1:9/ lbhealth_state: up"
    assert result.name == "iis"
    assert len(result.details["server"]) <= MAX_REASON and "\x9b" not in result.details["server"]
    assert result.details["rows"] == [{"cell": "a b"}]
    assert CheckResult.from_json(result.to_json()) == result  # what is clean stays as it is
