"""Runs checks and keeps their results: probe -> interpret -> verdict -> store.

Background mode (the default): the scheduler calls :meth:`Engine.run` on each
check's schedule and readers take the latest result, DOWN once older than
``max_age``. On-demand mode: a request probes when the check's result is older
than ``cache_ttl``; when many monitors ask about one node at once, one probe
goes to the backend and every asker shares its result (single flight).
Either way a result's lifetime is :meth:`Engine.lifetime` and freshness is
:meth:`lbhealth.store.verdicts.Stored.expires`: one rule.

A result probed elsewhere (another instance sharing a store, or this one before
a restart) enters through :meth:`Engine.accept`, with the wall-clock time of its
probe: it is served exactly as if probed here, while fresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from lbhealth.config import Inventory
from lbhealth.core.checks import Check, build_checks, internal_failure, judge, not_probed_yet, stale
from lbhealth.core.flap import Flap
from lbhealth.core.history import History
from lbhealth.core.limits import limit_settings, limits_for
from lbhealth.core.readings import Readings
from lbhealth.probe import Observation, ProbeClient, new_client, probe_http, probe_tcp
from lbhealth.store.verdicts import Key, Stored, VerdictStore, fresh
from lbhealth.verdict import CheckResult, NodeVerdict, Status, aggregate

log = logging.getLogger("lbhealth.engine")

#: Told of every probe: the check, its result and the reason kind (an Observation
#: error kind such as ``timeout``, or ``ok``, ``verdict``, ``internal``): bounded
#: label values for metrics, never free text.
Observer = Callable[[Check, CheckResult, str], None]
#: Told of every result stored, probed here or accepted from elsewhere.
Listener = Callable[[Check], None]


class Engine:
    """Owns the probe clients, the cache and the latest result of every check."""

    def __init__(
        self,
        inventory: Inventory,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        announce: bool = True,
    ) -> None:
        self.inventory = inventory
        self.checks: Mapping[str, list[Check]] = build_checks(inventory)
        self.clock = clock
        self._wall = wall_clock
        #: Bounds the probes of both modes (the scheduler's and on-demand ones).
        self.limits = limits_for(inventory)
        self._inflight: dict[Key, asyncio.Future[CheckResult]] = {}
        self._clients: dict[bool | str, ProbeClient] = {}
        #: The most recent result of every check that has run at least once.
        self.verdicts = VerdictStore(clock, wall_clock)
        #: The last verdict changes of every node.
        self.history = History(inventory.settings.history_size)
        self._flap = Flap()
        #: The last answer each check read, so that an identical one is not read again.
        self.readings = Readings()
        #: Background mode reads ``latest`` (the scheduler fills it); on-demand probes.
        self.background = inventory.settings.mode == "background"
        #: Told of each probe made here (metrics; publishing to a shared store).
        self.observers: list[Observer] = []
        #: Keep the history of verdict changes and log them (the serving side does;
        #: the probe process, whose results the serving side records, does not).
        self.announce = announce
        #: Told of each result stored, whatever its origin (the prebuilt answers).
        self.listeners: list[Listener] = []

    @property
    def probed_all(self) -> bool:
        """True once every configured check has a result (lbhealth's readiness)."""
        return all(c.key in self.verdicts for checks in self.checks.values() for c in checks)

    def pending(self) -> list[str]:
        return [
            f"{c.node}/{c.name}"
            for checks in self.checks.values()
            for c in checks
            if c.key not in self.verdicts
        ]

    def _client(self, check: Check) -> ProbeClient:
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
            # A probe that outlived its check (a reload replaced it) leaves no memory behind:
            # its reading and flap state would never be forgotten.
            readings = self.readings if self._is_current(check) else None
            result = judge(check, observation, self._wall(), readings)
            kind = observation.error or ("ok" if result.status is Status.UP else "verdict")
        except Exception as exc:  # a bug here must not become a 500 for a monitor
            log.exception("check %s/%s failed internally", check.node, check.name)
            result = internal_failure(check, exc, self._wall())
            kind = "internal"
        if self._is_current(check):
            result = self._flap.apply(check.key, check.spec.rise, check.spec.fall, result)
        self.record(check, result, kind)
        return result

    def took_over(self, check: Check) -> None:
        """This instance probes ``check`` again after others did: rise/fall restarts from
        its next result, unless it follows the others' results (:meth:`accept`)."""
        self._flap.resume(check.key)

    def changing(self, check: Check) -> bool:
        """rise/fall: the check's results disagree with its state (HAProxy's ``fastinter`` case)."""
        return self._flap.changing(check.key)

    def check(self, key: Key) -> Check | None:
        """The configured check with that key, if the current inventory has it."""
        return next((c for c in self.checks.get(key[0], ()) if c.name == key[1]), None)

    def record(self, check: Check, result: CheckResult, kind: str) -> None:
        """Keep a check's new result: from a probe here, or from the probe process.

        Tells the listeners (prebuilt answers) and the observers (metrics,
        publishing to a shared store), keeps the history of verdict changes and
        logs each change.
        """
        if not self._is_current(check):
            return  # probed under a config that a reload has since replaced
        self._keep(check, result, self.clock(), "probe")
        for observer in self.observers:
            observer(check, result, kind)

    def accept(self, check: Check, result: CheckResult, probed_at_wall: float) -> bool:
        """Record a result probed elsewhere at wall time ``probed_at_wall``; False if not taken.

        Served like one probed here, by the same freshness rule: a result already
        past its lifetime, older than the one held, or of a check a reload
        replaced, is ignored. The check's flap state follows it (its streak
        starts afresh).
        """
        if not self._is_current(check):
            return False
        at = self.verdicts.from_wall(probed_at_wall)
        held = self.verdicts.get(check.key)
        if held is not None and held.probed_at >= at:
            return False
        if not fresh(Stored(result, at).expires(self.lifetime(check)), self.clock()):
            return False
        self._flap.adopt(check.key, result)
        self._keep(check, result, at, "shared")
        return True

    def _keep(self, check: Check, result: CheckResult, at: float, origin: str) -> None:
        stored = self.verdicts.record(check.key, result, at)
        previous = stored.result if stored else None
        for listener in self.listeners:
            listener(check)
        if self.announce and (previous is None or previous.status is not result.status):
            node_checks = self.checks[check.node]
            self.history.observe(
                check.node, (self.latest(c.key) for c in node_checks), result.checked_at
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
                    "origin": origin,
                },
            )

    def latest(self, key: Key) -> CheckResult | None:
        """The check's most recent result, however old."""
        stored = self.verdicts.get(key)
        return stored.result if stored else None

    def lifetime(self, check: Check) -> float:
        """How long a result may be served: ``max_age`` (background) or ``cache_ttl``.

        Read from the current config on each call, so a reload changing the
        mode or the TTL applies to results already stored.
        """
        return check.max_age if self.background else self.inventory.settings.cache_ttl

    def current(self, check: Check) -> CheckResult:
        """Background mode: the latest result; DOWN when missing or older than max_age."""
        stored = self.verdicts.get(check.key)
        if stored is None:
            return not_probed_yet(check, self._wall())
        live = self.verdicts.fresh_result(check.key, self.lifetime(check))
        return live or stale(check, stored.result, self.clock() - stored.probed_at)

    def _is_current(self, check: Check) -> bool:
        return check in self.checks.get(check.node, ())

    async def result(self, check: Check) -> CheckResult:
        """On-demand mode: the cached result, or one shared fresh probe (single flight).

        Background mode: :meth:`current`, never waiting on a backend.
        """
        if self.background:
            return self.current(check)
        cached = self.verdicts.fresh_result(check.key, self.lifetime(check))
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
                return await self.run(check)
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
        its latest result stays, so a reload neither makes
        lbhealth unready nor sends a burst of probes. Changed and new checks start
        afresh; probes already running for replaced checks finish but are not
        recorded. Synchronous, so on the event loop no request sees half of it.
        """
        before = {c.key: c for checks in self.checks.values() for c in checks}
        after = build_checks(inventory)
        current = [c for checks in after.values() for c in checks]
        kept = {c.key for c in current if before.get(c.key) == c}
        for key in set(before) - kept:
            self._inflight.pop(key, None)
            self.verdicts.forget(key)
            self._flap.forget(key)
            self.readings.forget(key)
        if limit_settings(inventory) != limit_settings(self.inventory):
            self.limits = limits_for(inventory)
        self.inventory, self.checks = inventory, after
        self.background = inventory.settings.mode == "background"
        removed = set(before) - {c.key for c in current}
        return {"kept": len(kept), "new": len(current) - len(kept), "removed": len(removed)}

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
