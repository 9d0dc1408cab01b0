"""Probe side of a shared store: which instance probes a check, and its results for all.

Two hooks into the probe flow, and nothing else: the scheduler's gate
(:meth:`ProbeSharing.should_probe`) takes or renews the check's lease before each
probe, and an engine observer (:meth:`ProbeSharing.observe`) publishes each result
probed here. The serving side (accepting the others' results, the admin state)
lives in :mod:`lbhealth.app.sharing`; both use one :class:`~lbhealth.store.link.StoreLink`
per process.

While the store is not ``connected`` the gate says yes without asking it: each
instance probes every check on its own, and a backend that breaks is still seen.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

from lbhealth.core.checks import Check
from lbhealth.core.engine import Engine
from lbhealth.store.lease import LEASE_MARGIN, Leases
from lbhealth.store.link import StoreLink, StoreUnavailable
from lbhealth.store.publish import ResultPublisher
from lbhealth.store.shared import SharedResult
from lbhealth.text.redact import MASK, mask_url, sensitive_header
from lbhealth.verdict import CheckResult


def shared_key(check: Check) -> str:
    """The check's name in the store: node, name and a digest of what decides its verdict.

    Instances share a check's lease and results only when they probe it the same
    way (same spec and timeout); during a rolling update that changes a check, old
    and new versions keep apart. Credentials are left out of the digest (masked:
    the URL's ``user:password@`` and credential headers' values): the key is shown
    in Redis and in the verdict file, and a short unsalted digest of a password is
    one dictionary attack away from it. Whether a check carries them still counts.
    """
    spec = check.spec.model_dump()
    if check.spec.url is not None:
        spec["url"] = mask_url(check.spec.url)
    spec["headers"] = {
        name: MASK if sensitive_header(name) else value
        for name, value in check.spec.headers.items()
    }
    identity = json.dumps(
        [spec, check.timeout],
        sort_keys=True,
        default=lambda value: sorted(value) if isinstance(value, frozenset) else str(value),
    )
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return f"{check.node}/{check.name}/{digest}"


def lease_ttl(check: Check, jitter: float) -> float:
    """How long a check's lease outlives its holder's last probe or publish.

    Longer than the holder's longest period (``interval * (1 + jitter)``), so the
    holder keeps it; an instance that dies loses it that much after its last word.
    """
    return check.interval * (1 + jitter) + LEASE_MARGIN


class ProbeSharing:
    """The scheduler's gate and the engine's publishing observer, over one store link."""

    def __init__(self, engine: Engine, link: StoreLink) -> None:
        self.engine = engine
        self.link = link
        self.leases = Leases(link)
        self.publisher = ResultPublisher(link)
        self.index = KeyIndex(engine)
        #: Checks whose last probe another instance made (this one was told no).
        self._skipped: set[str] = set()

    def _ttl(self, check: Check) -> float:
        return lease_ttl(check, self.engine.inventory.settings.jitter)

    async def should_probe(self, check: Check) -> bool:
        """True when this instance holds (took or renewed) the check's lease, or is alone.

        Probing again after being told that another instance held the check, this
        one's own rise/fall state of it is stale (the probe process never sees the
        others' results): :meth:`lbhealth.core.engine.Engine.took_over` drops it.
        """
        key = self.index.key(check)
        if not self.link.health.sharing:
            mine = True
        else:
            try:
                mine = await self.leases.hold(key, self._ttl(check))
            except StoreUnavailable:
                mine = True
        if not mine:
            self._skipped.add(key)
        elif key in self._skipped:
            self._skipped.discard(key)
            self.engine.took_over(check)
        return mine

    def observe(self, check: Check, result: CheckResult, _kind: str) -> None:
        """Engine observer: offer the result just probed here to the other instances."""
        stored = self.engine.verdicts.get(check.key)
        if stored is None or stored.result is not result:
            return
        probed_at = self.engine.verdicts.to_wall(stored.probed_at)
        shared = SharedResult(self.index.key(check), result, probed_at, self.link.instance)
        renew = self._ttl(check) if self.engine.background else 0.0
        self.publisher.offer(shared, self.engine.lifetime(check), renew)

    async def run(self) -> None:
        """Until cancelled: send the results offered."""
        await self.publisher.run()

    async def release(self) -> None:
        """On a clean stop: give the leases up, so another instance probes at once."""
        await self.leases.release_all()


class KeyIndex:
    """The engine's current checks by shared key, and their keys, rebuilt after each reload.

    A key digests the check's spec: computed once per check and reload, not per probe.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._built: tuple[object, dict[str, Check], dict[int, str]] | None = None

    def _index(self) -> tuple[object, dict[str, Check], dict[int, str]]:
        checks = self.engine.checks
        if self._built is None or self._built[0] is not checks:
            keys = {id(c): shared_key(c) for node in checks.values() for c in node}
            by_key = {keys[id(c)]: c for node in checks.values() for c in node}
            self._built = (checks, by_key, keys)
        return self._built

    def all(self) -> dict[str, Check]:
        return self._index()[1]

    def key(self, check: Check) -> str:
        """The check's shared key (computed afresh for a check no longer current)."""
        return self._index()[2].get(id(check)) or shared_key(check)

    def accept(self, shared: SharedResult) -> bool:
        """Serve a result probed elsewhere, if it is of a current check and newer."""
        check = self.all().get(shared.key)
        return check is not None and self.engine.accept(check, shared.result, shared.probed_at)


async def start_link(link: StoreLink, probe: ProbeSharing) -> list[asyncio.Task[None]]:
    """Connect and sync once (bounded by the calls' timeouts), then keep the link up and the
    publisher sending; the tasks that do it, for :func:`stop_link`."""
    await link.recover()
    return [asyncio.create_task(link.supervise()), asyncio.create_task(probe.run())]


async def stop_link(tasks: list[asyncio.Task[None]], probe: ProbeSharing, release: bool) -> None:
    """Stop what :func:`start_link` started; ``release``: give this process's leases up, so
    another instance probes those checks at once. The link itself is the caller's to close."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if release and probe.link.health.sharing:
        await probe.release()
