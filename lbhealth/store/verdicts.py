"""The latest result of every check, when it was probed, and the one rule for how long it counts.

Everything that asks "may this verdict still be served?" asks here: the
scheduler's ``max_age`` fail-safe, the on-demand cache and the prebuilt
answers all use :meth:`Stored.expires` and :func:`fresh`, so they cannot disagree.

Probe times are kept on the store's monotonic clock (immune to clock steps).
Results that cross a process boundary (another instance's, through a shared
store; the verdict file, across a restart) carry wall-clock time instead:
:meth:`VerdictStore.to_wall` and :meth:`VerdictStore.from_wall` convert.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lbhealth.verdict import CheckResult

#: A check's identity: (node, check name).
Key = tuple[str, str]


def fresh(expires: float, now: float) -> bool:
    """The freshness rule: a result counts up to and including its expiry time."""
    return now <= expires


@dataclass(frozen=True, slots=True)
class Stored:
    """A check's latest result and the store-clock time of the probe that made it."""

    result: CheckResult
    probed_at: float

    def expires(self, lifetime: float) -> float:
        """A result counts for ``lifetime`` seconds after its probe (see :func:`fresh`)."""
        return self.probed_at + lifetime


class VerdictStore:
    """The latest result of every check that has run at least once (in this process)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self._latest: dict[Key, Stored] = {}

    def to_wall(self, at: float) -> float:
        """The wall-clock time of store-clock time ``at``."""
        return self.wall_clock() - (self.clock() - at)

    def from_wall(self, wall: float) -> float:
        """The store-clock time of wall-clock time ``wall``; never in the future.

        A time ahead of this clock (another host's clock runs ahead) counts as now.
        """
        return self.clock() - max(0.0, self.wall_clock() - wall)

    def __contains__(self, key: object) -> bool:
        return key in self._latest

    def __iter__(self) -> Iterator[Key]:
        return iter(self._latest)

    def get(self, key: Key) -> Stored | None:
        return self._latest.get(key)

    def fresh_result(self, key: Key, lifetime: float) -> CheckResult | None:
        """The result while it still counts, else None."""
        stored = self._latest.get(key)
        if stored is None or not fresh(stored.expires(lifetime), self.clock()):
            return None
        return stored.result

    def record(self, key: Key, result: CheckResult, at: float | None = None) -> Stored | None:
        """Keep ``result`` as the check's latest, probed at ``at`` (default now); the entry
        it replaces."""
        previous = self._latest.get(key)
        self._latest[key] = Stored(result, self.clock() if at is None else at)
        return previous

    def forget(self, key: Key) -> None:
        self._latest.pop(key, None)
