"""Background refresh: every check is probed on its own schedule, never on a request.

Monitors then read the latest verdict from memory, and the backends see a
constant, small probe rate whatever the monitor load: at most ``T / interval + 1``
probes of a check over any ``T`` seconds, because two probes of one check are
always at least ``interval`` apart (start to start).

Checks must not align: after the start-up round (every check probed at once, so
``/readyz`` turns ready quickly), each check waits ``interval`` plus a random
share of one more interval, then ``interval`` plus up to ``jitter`` times it.
Jitter only ever lengthens a period, which is what keeps the bound above.

With ``rise``/``fall`` above 1, a check whose results start to disagree with its
state is probed again after ``fastinter`` (as HAProxy's ``fastinter``) until
the change is confirmed or dropped: a confirmed change costs at most
``max(rise, fall) - 1`` extra probes, and reaches the monitors that much sooner.

Every probe's lateness (how long after its planned start it began: a busy
process, or waiting for a probe slot) is reported to ``on_start``, so that
falling behind the schedule is measured and said, never silent
(:class:`lbhealth.core.lag.ScheduleLag`).

Load is bounded twice (:class:`lbhealth.core.limits.ProbeLimits`, shared with the
on-demand mode): at most ``max_probes`` probes in flight over all backends, and
at most ``max_probes_per_host`` towards any one host.

Instances sharing a store probe each check once between them: before each probe
the scheduler asks its ``gate`` (:meth:`lbhealth.core.sharing.ProbeSharing.should_probe`,
which takes or renews the check's lease); told no, it skips that probe and keeps
its schedule, asking again one period later. A gate that fails lets the probe run:
probing too often is safer than not probing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable

from lbhealth.core.checks import Check
from lbhealth.core.engine import Engine
from lbhealth.core.limits import ProbeLimits

log = logging.getLogger("lbhealth.scheduler")

Probe = Callable[[Check], Awaitable[object]]
Sleep = Callable[[float], Awaitable[None]]
#: Told when each probe starts, with how many seconds after its planned start.
OnStart = Callable[[Check, float], None]
#: Asked before each probe: whether this process should probe the check now.
Gate = Callable[[Check], Awaitable[bool]]


def next_delay(interval: float, spread: float, rng: random.Random) -> float:
    """Seconds until a check's next probe: in ``[interval, interval * (1 + spread)]``."""
    return interval * (1.0 + rng.uniform(0.0, spread))


class Scheduler:
    """One loop per check, probing it forever within the global and per-host limits."""

    def __init__(
        self,
        checks: Iterable[Check],
        probe: Probe,
        *,
        jitter: float,
        limits: ProbeLimits,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        first_delay: Callable[[Check], float] = lambda _: 0.0,
        changing: Callable[[Check], bool] = lambda _: False,
        fastinter: float = 0.5,
        on_start: OnStart = lambda _check, _lag: None,
        gate: Gate | None = None,
    ) -> None:
        self._checks = list(checks)
        self._gate = gate
        self._first_delay = first_delay
        self._probe = probe
        self._jitter = jitter
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._limits = limits
        self._changing = changing
        self._fastinter = fastinter
        self._on_start = on_start

    async def run(self) -> None:
        """Probe every check forever; cancel to stop (in-flight probes are cancelled)."""
        await asyncio.gather(*(self._run(check) for check in self._checks))

    async def _run(self, check: Check) -> None:
        spread = 1.0  # the first period spreads checks over a whole extra interval
        wait = self._first_delay(check)
        planned = self._clock() + wait
        if wait > 0:  # a check kept across a reload continues its schedule
            await self._sleep(wait)
            spread = self._jitter
        first = wait <= 0  # the start-up round probes every check at once: no schedule yet
        while True:
            if await self._may_probe(check):
                await self._probe_bounded(check, None if first else planned)
            first = False
            if self._changing(check):
                delay = min(self._fastinter, check.interval)  # confirm the change quickly
            else:
                delay = next_delay(check.interval, spread, self._rng)
            planned = self._clock() + delay
            await self._sleep(delay)
            spread = self._jitter

    async def _may_probe(self, check: Check) -> bool:
        if self._gate is None:
            return True
        try:
            return await self._gate(check)
        except Exception:  # probe rather than leave the check unprobed
            log.exception("probe gate of %s/%s failed; probing", check.node, check.name)
            return True

    async def _probe_bounded(self, check: Check, planned: float | None) -> None:
        async with self._limits.slot(check.host):
            if planned is not None:
                self._on_start(check, max(0.0, self._clock() - planned))
            try:
                await self._probe(check)
            except Exception:  # keep the schedule alive; max_age makes the verdict DOWN
                log.exception("probe of %s/%s failed", check.node, check.name)


def for_engine(
    engine: Engine, on_start: OnStart = lambda _check, _lag: None, gate: Gate | None = None
) -> Scheduler:
    """The scheduler that keeps the engine's verdicts fresh, with the inventory's limits."""
    settings = engine.inventory.settings

    def first_delay(check: Check) -> float:
        stored = engine.verdicts.get(check.key)
        return 0.0 if stored is None else max(0.0, stored.expires(check.interval) - engine.clock())

    return Scheduler(
        (c for checks in engine.checks.values() for c in checks),
        engine.run,
        jitter=settings.jitter,
        limits=engine.limits,
        clock=engine.clock,
        first_delay=first_delay,
        changing=engine.changing,
        fastinter=settings.fastinter,
        on_start=on_start,
        gate=gate,
    )
