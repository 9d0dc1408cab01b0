"""Runs checks on demand with a short-lived verdict cache and single flight.

When many monitors ask about one node at once, one probe goes to the backend
and every asker shares its result; the verdict (UP or DOWN alike) is then
reused for ``cache_ttl`` seconds. Keep the TTL shorter than the monitors'
interval so each monitor poll sees a fresh-enough answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import httpx
from cachetools import TTLCache

from lbhealth.checks import Check, build_checks, internal_failure, judge, not_probed_yet, stale
from lbhealth.config import Inventory
from lbhealth.flap import Flap
from lbhealth.history import History
from lbhealth.probe import Observation, new_client, probe_http, probe_tcp
from lbhealth.verdict import CheckResult, Status, aggregate

log = logging.getLogger("lbhealth.engine")

Key = tuple[str, str]
#: Told of every probe: the check, its result and the reason kind (an Observation
#: error kind such as ``timeout``, or ``ok``, ``verdict``, ``internal``): bounded
#: label values for metrics, never free text.
Observer = Callable[[Check, CheckResult, str], None]
_MAX_CACHED = 1 << 20


class ProbeLimits:
    """At most ``max_probes`` probes in flight overall, ``per_host`` towards one host.

    A probe takes its host's slot *before* a global one, so a hung host holds at
    most its own share of global slots and cannot starve the probes of others.
    """

    def __init__(self, max_probes: int, per_host: int) -> None:
        self._global = asyncio.Semaphore(max_probes)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_host)
        )

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        async with self._hosts[host], self._global:
            yield


def _limit_settings(inventory: Inventory) -> tuple[int, int]:
    return inventory.settings.max_probes, inventory.settings.max_probes_per_host


def _limits(inventory: Inventory) -> ProbeLimits:
    return ProbeLimits(*_limit_settings(inventory))


@dataclass(frozen=True, slots=True)
class NodeVerdict:
    """A node's combined verdict and the results it was built from."""

    node: str
    role: str | None
    status: Status
    reason: str
    checks: tuple[CheckResult, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "node": self.node,
            "role": self.role,
            "status": self.status.value,
            "reason": self.reason,
            "checks": [c.to_json() for c in self.checks],
        }


class Engine:
    """Owns the probe clients, the cache and the latest result of every check."""

    def __init__(
        self,
        inventory: Inventory,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.inventory = inventory
        self.checks: Mapping[str, list[Check]] = build_checks(inventory)
        self.clock = clock
        self._wall = wall_clock
        self._cache = self._new_cache(inventory.settings.cache_ttl)
        #: Bounds the probes of both modes (the scheduler's and on-demand ones).
        self.limits = _limits(inventory)
        self._inflight: dict[Key, asyncio.Future[CheckResult]] = {}
        self._clients: dict[bool | str, httpx.AsyncClient] = {}
        #: The most recent result of every check that has run at least once.
        self.latest: dict[Key, CheckResult] = {}
        #: The last verdict changes of every node.
        self.history = History(inventory.settings.history_size)
        self._flap = Flap()
        #: Background mode reads ``latest`` (the scheduler fills it); on-demand probes.
        self.background = inventory.settings.mode == "background"
        #: ``clock`` time of each check's latest result, to judge its age.
        self.probed_at: dict[Key, float] = {}
        self.observers: list[Observer] = []

    @property
    def probed_all(self) -> bool:
        """True once every configured check has a result (lbhealth's readiness)."""
        return all(c.key in self.latest for checks in self.checks.values() for c in checks)

    def pending(self) -> list[str]:
        return [
            f"{c.node}/{c.name}"
            for checks in self.checks.values()
            for c in checks
            if c.key not in self.latest
        ]

    def _client(self, check: Check) -> httpx.AsyncClient:
        profile = check.tls_profile
        client = self._clients.get(profile)
        if client is None:
            client = self._clients[profile] = new_client(verify=profile)
        return client

    async def _observe(self, check: Check) -> Observation:
        settings = self.inventory.settings
        if check.kind == "tcp":
            host, port = check.tcp_target()
            return await probe_tcp(host, port, check.timeout)
        return await probe_http(
            self._client(check), check.http_target(), check.timeout, settings.max_body
        )

    async def run(self, check: Check) -> CheckResult:
        """Probe once, now, bypassing the cache. Never raises."""
        try:
            observation = await self._observe(check)
            result = judge(check, observation, self._wall())
            kind = observation.error or ("ok" if result.status is Status.UP else "verdict")
        except Exception as exc:  # a bug here must not become a 500 for a monitor
            log.exception("check %s/%s failed internally", check.node, check.name)
            result = internal_failure(check, exc, self._wall())
            kind = "internal"
        result = self._flap.apply(check.key, check.spec.rise, check.spec.fall, result)
        self._record(check, result, kind)
        return result

    def _record(self, check: Check, result: CheckResult, kind: str) -> None:
        if not self._is_current(check):
            return  # probed under a config that a reload has since replaced
        previous = self.latest.get(check.key)
        self.latest[check.key] = result
        self.probed_at[check.key] = self.clock()
        for observer in self.observers:
            observer(check, result, kind)
        if previous is None or previous.status is not result.status:
            node_checks = self.checks[check.node]
            self.history.observe(
                check.node, (self.latest.get(c.key) for c in node_checks), result.checked_at
            )
            old = previous.status.value if previous else "none"
            log.info(
                "verdict %s/%s: %s -> %s %s",
                check.node,
                check.name,
                old,
                result.status.value,
                result.reason,
                extra={
                    "node": check.node,
                    "check": check.name,
                    "old": old,
                    "new": result.status.value,
                    "reason": result.reason,
                },
            )

    def current(self, check: Check) -> CheckResult:
        """Background mode: the latest result; DOWN when missing or older than max_age."""
        latest = self.latest.get(check.key)
        if latest is None:
            return not_probed_yet(check, self._wall())
        age = self.clock() - self.probed_at[check.key]
        return latest if age <= check.max_age else stale(check, latest, age)

    def _is_current(self, check: Check) -> bool:
        return check in self.checks.get(check.node, ())

    async def result(self, check: Check) -> CheckResult:
        """On-demand mode: the cached result, or one shared fresh probe (single flight).

        Background mode: :meth:`current`, never waiting on a backend.
        """
        if self.background:
            return self.current(check)
        cached = self._cache.get(check.key)
        if cached is not None:
            return cached
        future = self._inflight.get(check.key)
        if future is None:
            future = asyncio.ensure_future(self._fill(check))
            self._inflight[check.key] = future
        # shield: a monitor that hangs up must not cancel the probe others await.
        return await asyncio.shield(future)

    async def _fill(self, check: Check) -> CheckResult:
        try:
            async with self.limits.slot(check.host):
                result = await self.run(check)
            if self._is_current(check):
                self._cache[check.key] = result
            return result
        finally:
            if self._is_current(check):
                self._inflight.pop(check.key, None)

    async def node(self, name: str) -> NodeVerdict:
        """A node's verdict: every check (cached or probed concurrently) must be UP."""
        checks = self.checks[name]
        if len(checks) == 1:
            results: tuple[CheckResult, ...] = (await self.result(checks[0]),)
        else:
            results = tuple(await asyncio.gather(*(self.result(c) for c in checks)))
        return self.verdict(name, results)

    def verdict(self, name: str, results: tuple[CheckResult, ...]) -> NodeVerdict:
        """Combine a node's check results (every check must be UP)."""
        status, reason = aggregate(results)
        return NodeVerdict(name, self.inventory.nodes[name].role, status, reason, results)

    async def all_nodes(self) -> list[NodeVerdict]:
        return list(await asyncio.gather(*(self.node(n) for n in self.checks)))

    async def warm_up(self) -> None:
        """Probe every check once, so readiness does not wait for the first monitor."""
        await self.all_nodes()

    def reconfigure(self, inventory: Inventory) -> dict[str, int]:
        """Serve ``inventory`` from now on, keeping what is known about unchanged checks.

        A check is unchanged when its node, name and resolved spec are identical:
        its latest result and cached verdict stay, so a reload neither makes
        lbhealth unready nor sends a burst of probes. Changed and new checks start
        afresh; probes already running for replaced checks finish but are not
        recorded. Synchronous, so on the event loop no request sees half of it.
        """
        before = {c.key: c for checks in self.checks.values() for c in checks}
        after = build_checks(inventory)
        current = [c for checks in after.values() for c in checks]
        kept = {c.key for c in current if before.get(c.key) == c}
        if inventory.settings.cache_ttl != self.inventory.settings.cache_ttl:
            self._cache = self._new_cache(inventory.settings.cache_ttl)  # verdicts expire early
        for key in set(before) - kept:
            self._cache.pop(key, None)
            self._inflight.pop(key, None)
            self.latest.pop(key, None)
            self.probed_at.pop(key, None)
            self._flap.forget(key)
        if _limit_settings(inventory) != _limit_settings(self.inventory):
            self.limits = _limits(inventory)
        self.inventory, self.checks = inventory, after
        self.background = inventory.settings.mode == "background"
        removed = set(before) - {c.key for c in current}
        return {"kept": len(kept), "new": len(current) - len(kept), "removed": len(removed)}

    def _new_cache(self, ttl: float) -> TTLCache[Key, CheckResult]:
        # Entries are keyed by configured checks, so the cache never holds more
        # than the inventory has; the bound only has to survive reloads that add checks.
        return TTLCache(maxsize=_MAX_CACHED, ttl=ttl, timer=self.clock)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
