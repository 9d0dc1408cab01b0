"""The probe process itself: an engine, its scheduler and its store link, fed over a pipe.

Started by :class:`lbhealth.core.probe_process.ProbeProcess`; everything it says
travels as :mod:`lbhealth.core.probe_messages`. A thread receives the parent's
messages (the loop never blocks on the pipe); the event loop probes, sends each
result, and sends a heartbeat every second, which stops when the loop is stuck
(a pathological pattern on a huge page): the parent then kills and replaces it.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

from lbhealth.core import scheduler
from lbhealth.core.checks import Check
from lbhealth.core.engine import Engine
from lbhealth.core.probe_messages import (
    HEARTBEAT_EVERY,
    ChildStart,
    Configure,
    Heartbeat,
    LinkReport,
    Report,
)
from lbhealth.core.sharing import ProbeSharing, start_link, stop_link
from lbhealth.store.link import StoreLink
from lbhealth.store.verdicts import Key
from lbhealth.verdict import CheckResult


def child_main(conn: Connection, setup_logging: Callable[[], None]) -> None:
    """The child process: probe what the parent configures until the pipe closes.

    It ignores SIGINT and SIGTERM: Ctrl-C or a service manager signals the
    whole process group, and the parent, which shuts down in order, stops the
    child itself (or the closed pipe does, if the parent is gone).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    setup_logging()
    asyncio.run(Prober(conn).run())


class ChildSharing:
    """The probe side of a shared store, in the probe process, over a link of its own.

    The scheduler asks its lease gate before each probe and each result is
    published; the serving side (results of the others, the admin state) stays
    in the serving process (:class:`lbhealth.app.sharing.Sharing`). Its name in
    the store is the one the parent gave it, so the parent knows its results.
    """

    def __init__(self, engine: Engine, url: str, instance: str) -> None:
        self.link = StoreLink(url, instance=instance)
        self.probe = ProbeSharing(engine, self.link)
        engine.observers.append(self.probe.observe)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = await start_link(self.link, self.probe)

    async def stop(self) -> None:
        """Give the leases up (another instance probes at once), close the link."""
        await stop_link(self._tasks, self.probe, release=True)
        await self.link.aclose()


class Prober:
    """The child's state: one engine and its scheduler, the store link, the pipe."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.inbox: asyncio.Queue[Configure | None] = asyncio.Queue()
        self.engine: Engine | None = None
        self.sharing: ChildSharing | None = None
        self.generation = 0
        self._lags: dict[Key, float] = {}

    def send(self, message: Report | Heartbeat) -> None:
        try:
            self.conn.send(message)
        except (OSError, ValueError):
            self.inbox.put_nowait(None)  # the parent is gone: stop

    def heartbeat(self) -> None:
        sharing = self.sharing
        store = LinkReport.of(sharing.link, sharing.probe) if sharing is not None else None
        self.send(Heartbeat(store))

    async def _beat(self) -> None:
        while True:
            self.heartbeat()
            await asyncio.sleep(HEARTBEAT_EVERY)

    def _receive(self, loop: asyncio.AbstractEventLoop) -> None:
        """A thread: the loop never blocks on the pipe."""
        while True:
            try:
                message = self.conn.recv()
            except Exception:  # the parent is gone, or sent what cannot be read: stop
                message = None
            loop.call_soon_threadsafe(self.inbox.put_nowait, message)
            if message is None:
                return

    def _started(self, check: Check, lag: float) -> None:
        self._lags[check.key] = lag

    def _report(self, check: Check, result: CheckResult, kind: str) -> None:
        lag = self._lags.pop(check.key, None)
        self.send(Report(self.generation, check.key, result, kind, lag))

    async def _first(self, message: Configure) -> Engine:
        engine = Engine(message.inventory, announce=False)  # the parent logs changes
        engine.observers.append(self._report)
        start = message.start or ChildStart("", ())
        for known in start.known:  # keep the schedule and rise/fall of a predecessor
            check = engine.check(known.key)
            if check is not None:
                engine.accept(check, known.result, known.probed_at)
        store = message.inventory.settings.store
        if store is not None:  # restart-only: the link lives as long as this process
            self.sharing = ChildSharing(engine, store.get_secret_value(), start.instance)
            self.heartbeat()  # the parent learns the link before anything is published
            await self.sharing.start()
        return engine

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        threading.Thread(
            target=self._receive, args=(loop,), name="lbhealth-probe-inbox", daemon=True
        ).start()
        beating = asyncio.create_task(self._beat())
        running: asyncio.Task[None] | None = None
        while (message := await self.inbox.get()) is not None:
            if running is not None:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
            self.generation = message.generation
            if self.engine is None:
                self.engine = await self._first(message)
            else:
                self.engine.reconfigure(message.inventory)
            gate = self.sharing.probe.should_probe if self.sharing is not None else None
            work = scheduler.for_engine(self.engine, self._started, gate).run()
            running = asyncio.create_task(work)
        for task in (running, beating):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self.sharing is not None:
            await self.sharing.stop()
        if self.engine is not None:
            await self.engine.aclose()
