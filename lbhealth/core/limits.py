"""Probe load bounds, shared by the scheduler and on-demand probes."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator

from lbhealth.config import Inventory


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


def limit_settings(inventory: Inventory) -> tuple[int, int]:
    return inventory.settings.max_probes, inventory.settings.max_probes_per_host


def limits_for(inventory: Inventory) -> ProbeLimits:
    return ProbeLimits(*limit_settings(inventory))
