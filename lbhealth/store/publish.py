"""Probe side: publish each result this instance probed, for every other instance to serve.

One atomic script per result: the result is kept under the check's verdict key
(expiring with its lifetime, so that a new instance finds only fresh ones), sent
on the :data:`~lbhealth.store.shared.RESULTS` channel (pushed to every instance at
once), and the caller's lease on the check is renewed if it still holds it (the
lease then outlives the probe's duration: see :mod:`lbhealth.store.lease`).

:meth:`ResultPublisher.offer` is synchronous (the engine's observers are) and never
waits: it keeps the latest result per check, and :meth:`ResultPublisher.run` sends
them in the background. While the store is not ``connected`` results are dropped,
not queued: this instance is probing alone then, and a result sent late could only
replace a newer one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from lbhealth.store.lease import milliseconds
from lbhealth.store.link import StoreLink, StoreUnavailable
from lbhealth.store.shared import RESULTS, SharedResult, lease_key, verdict_key

_PUBLISH = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[1])
if ARGV[5] ~= '0' and redis.call('GET', KEYS[2]) == ARGV[4] then
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return 1
"""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A result waiting to be sent, how long it counts, and the lease TTL to renew (0: none)."""

    shared: SharedResult
    lifetime: float
    lease_ttl: float


class ResultPublisher:
    """Sends this instance's results to the store, latest per check, off the probe path."""

    def __init__(self, link: StoreLink) -> None:
        self.link = link
        self._script = link.client.register_script(_PUBLISH)
        self._pending: dict[str, Outgoing] = {}
        self._wake = asyncio.Event()
        #: Results sent, and dropped (store not connected, or it failed).
        self.sent = 0
        self.dropped = 0

    def offer(self, shared: SharedResult, lifetime: float, lease_ttl: float = 0.0) -> None:
        """Queue ``shared`` (replacing an unsent older result of the same check)."""
        if not self.link.health.sharing:
            self.dropped += 1
            return
        self._pending[shared.key] = Outgoing(shared, lifetime, lease_ttl)
        self._wake.set()

    async def send(self, out: Outgoing) -> None:
        """Publish one result now (raises StoreUnavailable)."""
        shared = out.shared
        keys = [verdict_key(shared.key), lease_key(shared.key)]
        ttl = milliseconds(out.lease_ttl) if out.lease_ttl > 0 else 0
        args: list[str | int] = [
            shared.encode(),
            milliseconds(out.lifetime),
            RESULTS,
            self.link.instance,
            ttl,
        ]
        await self.link.call("publish", self._script(keys=keys, args=args))
        self.sent += 1

    async def run(self) -> None:
        """Until cancelled: send what is offered, in order of offering."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = list(self._pending.values()), {}
            for position, out in enumerate(batch):
                if not self.link.health.sharing:
                    self.dropped += len(batch) - position
                    break
                try:
                    await self.send(out)
                except StoreUnavailable:
                    self.dropped += 1
