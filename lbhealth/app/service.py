"""The running service: one engine, its admin state and prebuilt answers, and their lifecycle.

It owns what a reload replaces (:meth:`LBHealth.reconfigure`) and what starts
and stops with the server (probing, the state-file follower, the agent-check
listener, the shared store and the verdict file: :mod:`lbhealth.app.sharing`).
The HTTP side is composed in :mod:`lbhealth.app.api`: the fast path in front of
FastAPI, on one port.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping

from starlette.types import Receive, Scope, Send

from lbhealth.app.api import build_api
from lbhealth.app.logs import setup_logging
from lbhealth.app.sharing import Sharing, VerdictKeeper
from lbhealth.config import Inventory, Settings
from lbhealth.core import scheduler
from lbhealth.core.checks import Check
from lbhealth.core.engine import Engine
from lbhealth.core.lag import ScheduleLag
from lbhealth.core.probe_process import ProbeProcess
from lbhealth.serve.fast_path import FastPath
from lbhealth.serve.prebuilt import AnswerBook
from lbhealth.store.admin import AdminStore
from lbhealth.store.entries import AdminEntry
from lbhealth.verdict import NodeVerdict


class LBHealth:
    """The ASGI application: fast path for monitors, FastAPI for the rest."""

    def __init__(
        self,
        engine: Engine,
        config_path: str | None = None,
        at_start: Mapping[str, object] | None = None,
    ) -> None:
        self.engine = engine
        self.admin = AdminStore(engine.inventory)
        self.answers = AnswerBook(engine, self.admin)
        store = engine.inventory.settings.store
        #: With ``settings.store``: this instance's part in the group sharing it (the probe
        #: side lives in the probe process, when there is one).
        self.sharing = (
            Sharing(
                engine,
                self.admin,
                store.get_secret_value(),
                not self._in_process(),
                self._probed_here,
            )
            if store
            else None
        )
        self.keeper = VerdictKeeper(engine)
        self._keeping: asyncio.Task[None] | None = None
        #: The inventory file, for reloads (None: built in memory, cannot reload).
        self.config_path = config_path
        #: What the config file said of the restart-only settings at start (reloads compare).
        self.at_start = at_start
        #: With several workers, the supervisor that forwards a reload to all of them.
        self.supervisor_pid: int | None = None
        #: How late probes start: falling behind the schedule is measured and said.
        self.lag = ScheduleLag(engine.clock)
        #: Background mode with ``probe_process``: the child process that probes.
        self.prober: ProbeProcess | None = None
        self._probing: asyncio.Task[None] | None = None
        self._retired: set[asyncio.Future[None]] = set()
        self.api = build_api(self)
        self._asgi = FastPath(self.answers, self.api)

    @property
    def settings(self) -> Settings:
        return self.engine.inventory.settings

    def _in_process(self) -> bool:
        """Background probes run in the child process (the default), not on this loop."""
        return self.engine.background and self.settings.probe_process

    def _probed_here(self, instance: str) -> bool:
        """Whether a result published under ``instance`` is this instance's own probe
        process's (it came over the pipe already)."""
        return self.prober is not None and self.prober.publishes_as(instance)

    async def start_sharing(self) -> None:
        """Before probing: serve the verdicts kept on disk, then the store's shared state."""
        await self.keeper.load()
        if self.sharing is not None:
            await self.sharing.start()
        self._keeping = asyncio.create_task(self.keeper.run())

    async def stop_sharing(self) -> None:
        """After probing: leave the group (leases released), write the verdict file."""
        if self._keeping is not None:
            self._keeping.cancel()
            await asyncio.gather(self._keeping, return_exceptions=True)
        if self.sharing is not None:
            await self.sharing.stop()
        await self.keeper.save()

    def start_probing(self) -> None:
        """Background mode: the probe process, or the scheduler on this loop; on-demand mode:
        probe every check once."""
        engine = self.engine
        if self._in_process():
            if self.prober is None:
                settings = self.settings
                self.prober = ProbeProcess(
                    engine, self.lag, functools.partial(setup_logging, settings.log_level)
                )
                self.prober.start()
            else:
                self.prober.reconfigure(engine.inventory)
            return
        if engine.background:
            gate = self.sharing.probe.should_probe if self.sharing else None
            work = scheduler.for_engine(engine, self._started, gate).run()
        else:
            work = engine.warm_up()
        self._probing = asyncio.create_task(work)

    async def probing_started(self) -> None:
        """Until the probe process (if any) runs or failed to start; off the loop, before
        the server listens."""
        if self.prober is not None:
            await self.prober.started()

    def _started(self, check: Check, lag: float) -> None:
        self.lag.started(lag, check.interval)

    def _retire(self, task: asyncio.Future[None] | None, *, cancel: bool) -> None:
        """Let a replaced probing task (or a prober's stop) end without holding up a reload."""
        if task is None:
            return
        if cancel:
            task.cancel()
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    async def stop_probing(self) -> None:
        if self._probing is not None:
            self._probing.cancel()
            await asyncio.gather(self._probing, return_exceptions=True)
            self._probing = None
        if self.prober is not None:
            await self.prober.stop()
            self.prober = None
        await asyncio.gather(*self._retired, return_exceptions=True)

    def reconfigure(
        self, inventory: Inventory, admin_entries: dict[str, AdminEntry] | None = None
    ) -> dict[str, int]:
        """Serve a new, valid inventory, keeping what is known of unchanged checks.

        Synchronous, so that no request sees half of it: the old probing task is
        cancelled (its in-flight probes are not recorded; the probe process drops
        them by generation), the admin state, the engine and the prebuilt answers
        switch, and probing restarts; unchanged checks keep their schedule instead
        of being probed again at once.
        """
        self.admin.follow(inventory, admin_entries)
        self._retire(self._probing, cancel=True)
        self._probing = None
        counts = self.engine.reconfigure(inventory)
        self.answers.reset()
        if self.prober is not None and not self._in_process():  # now on-demand
            prober, self.prober = self.prober, None
            self._retire(asyncio.ensure_future(prober.stop()), cancel=False)
        if self.sharing is not None:
            self.sharing.set_probing(not self._in_process())
            self.sharing.reloaded()
        self.start_probing()
        return counts

    async def lb_state(self, name: str) -> tuple[NodeVerdict, AdminEntry, int | None] | None:
        """Verdict, admin state and agent weight of a node, for the agent-check."""
        if name not in self.engine.checks:
            return None
        weight = self.engine.inventory.nodes[name].agent_weight
        return await self.engine.node(name), self.admin.get(name), weight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)


def create_app(
    inventory: Inventory,
    config_path: str | None = None,
    at_start: Mapping[str, object] | None = None,
) -> LBHealth:
    """The ASGI app for an inventory; ``config_path`` is where reloads read it again."""
    return LBHealth(Engine(inventory), config_path, at_start)
