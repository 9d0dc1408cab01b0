"""Probe side: a per-check lease, so that one instance probes each check per interval.

A lease is a key holding its holder's instance id, with a TTL (``SET NX PX``).
:meth:`Leases.hold` takes a free lease or renews the caller's own, in one atomic
script: no instance can renew, or release, a lease it does not hold. The holder
asks before each probe of the check and renews again when it publishes the
result (:mod:`lbhealth.store.publish`), so it keeps the lease for as long as it
probes; others asking on their own schedule are told no, until the holder stops
(dies, is stopped, loses the store) and the lease expires: then the next to ask
takes it, within one of its periods plus the TTL.

Two probes of a check by different holders are therefore at least a TTL apart,
and one holder's are an interval apart: the backend's bound holds across instances.

A lease's TTL is its check's longest period plus :data:`LEASE_MARGIN`
(:func:`lbhealth.core.sharing.lease_ttl`); ``max_age`` defaults to that margin more
with a store, so that a takeover never lets the verdict others serve turn stale.
"""

from __future__ import annotations

import asyncio
import contextlib

from lbhealth.store.link import CALL_TIMEOUT, StoreLink, StoreUnavailable
from lbhealth.store.shared import lease_key

#: What a lease adds to its check's longest period: two store calls' worth of delay.
LEASE_MARGIN = 2 * CALL_TIMEOUT

_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
if not holder and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


def milliseconds(seconds: float) -> int:
    """A TTL in whole milliseconds, at least one (Redis refuses zero)."""
    return max(1, round(seconds * 1000))


class Leases:
    """This instance's leases on checks (by shared key)."""

    def __init__(self, link: StoreLink) -> None:
        self.link = link
        self._hold = link.client.register_script(_HOLD)
        self._release = link.client.register_script(_RELEASE)
        #: Keys this instance took a lease on (released on a clean stop).
        self.held: set[str] = set()

    async def hold(self, key: str, ttl: float) -> bool:
        """Take or renew the check's lease for ``ttl`` seconds; False while another holds it.

        Raises StoreUnavailable when the store does not answer.
        """
        args: list[str | int] = [self.link.instance, milliseconds(ttl)]
        mine = bool(await self.link.call("lease", self._hold(keys=[lease_key(key)], args=args)))
        if mine:
            self.held.add(key)
        else:
            self.held.discard(key)
        return mine

    async def holder(self, key: str) -> str | None:
        """The instance holding the check's lease now, if any (for operators and tests)."""
        raw = await self.link.call("lease holder", self.link.client.get(lease_key(key)))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def release_all(self) -> None:
        """On a clean stop: give up every lease held, so others take over at once."""
        keys, self.held, me = list(self.held), set(), [self.link.instance]
        releases = (self._release(keys=[lease_key(key)], args=me) for key in keys)
        with contextlib.suppress(StoreUnavailable):
            await asyncio.gather(*(self.link.call("release", r) for r in releases))
