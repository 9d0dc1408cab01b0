"""Probing in its own process: the scheduler, the probes and the page reading never share the
serving loop.

One event loop that serves monitors *and* probes and parses pages makes a
monitor's answer wait behind a 1 MiB page being read (hundreds of ms) and
lets heavy probe load starve the answers. So in background mode the serving
process runs no probe: a child process runs an :class:`~lbhealth.core.engine.Engine`
with the scheduler, and sends every result back over a pipe. A thread of the
serving process receives (and unpickles) them, and hands ready results to the
serving loop, which only records them: a dict update and the prebuilt answer.

The child is started from a fork server that has lbhealth imported already, so
starting one costs milliseconds. It exits when the pipe closes (its parent is
gone, even after ``kill -9``); a child that dies is restarted, with backoff,
and until then the verdicts age to ``stale`` DOWN (``max_age``): never a
silent UP. Each inventory sent to the child carries a generation number, so
results probed under a config that a reload has since replaced are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from lbhealth.config import Inventory
from lbhealth.core import scheduler
from lbhealth.core.checks import Check
from lbhealth.core.engine import Engine
from lbhealth.core.lag import ScheduleLag
from lbhealth.core.sharing import ProbeSharing
from lbhealth.store.link import StoreLink
from lbhealth.store.verdicts import Key
from lbhealth.verdict import CheckResult

log = logging.getLogger("lbhealth.probe_process")

#: Seconds before restarting a child that died, doubling up to :data:`MAX_BACKOFF`.
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
#: Seconds a stopping child gets to finish before it is killed.
STOP_GRACE = 3.0


@dataclass(frozen=True, slots=True)
class Report:
    """One probe's result, from the child: under which inventory, how late it started."""

    generation: int
    key: Key
    result: CheckResult
    kind: str
    #: Seconds after its planned start the probe began (None: start-up round, no plan).
    lag: float | None


@dataclass(frozen=True, slots=True)
class Configure:
    """To the child: probe this inventory from now on."""

    generation: int
    inventory: Inventory


def _context() -> multiprocessing.context.BaseContext:
    """A fork server with lbhealth preloaded: cheap starts, and safe from a threaded parent."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def child_main(conn: Connection, setup_logging: Callable[[], None]) -> None:
    """The child process: probe what the parent configures until the pipe closes.

    It ignores SIGINT and SIGTERM: Ctrl-C or a service manager signals the
    whole process group, and the parent, which shuts down in order, stops the
    child itself (or the closed pipe does, if the parent is gone).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    setup_logging()
    asyncio.run(_child(conn))


async def _child(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Configure | None] = asyncio.Queue()

    def receive() -> None:  # a thread: the loop never blocks on the pipe
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                message = None
            loop.call_soon_threadsafe(inbox.put_nowait, message)
            if message is None:
                return

    threading.Thread(target=receive, name="lbhealth-probe-inbox", daemon=True).start()
    engine: Engine | None = None
    running: asyncio.Task[None] | None = None
    generation = 0
    lags: dict[Key, float] = {}

    def started(check: Check, lag: float) -> None:
        lags[check.key] = lag

    def report(check: Check, result: CheckResult, kind: str) -> None:
        try:
            conn.send(Report(generation, check.key, result, kind, lags.pop(check.key, None)))
        except (OSError, ValueError):
            inbox.put_nowait(None)  # the parent is gone: stop

    sharing: ChildSharing | None = None
    while (message := await inbox.get()) is not None:
        if running is not None:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        generation = message.generation
        if engine is None:
            engine = Engine(message.inventory, announce=False)  # the parent logs changes
            engine.observers.append(report)
            store = message.inventory.settings.store
            if store is not None:  # restart-only: the link lives as long as this process
                sharing = ChildSharing(engine, store.get_secret_value())
                await sharing.start()
        else:
            engine.reconfigure(message.inventory)
        gate = sharing.probe.should_probe if sharing is not None else None
        running = asyncio.create_task(scheduler.for_engine(engine, started, gate).run())
    if running is not None:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    if sharing is not None:
        await sharing.stop()
    if engine is not None:
        await engine.aclose()


class ChildSharing:
    """The probe side of a shared store, in the probe process, over a link of its own.

    The scheduler asks its lease gate before each probe and each result is
    published; the serving side (results of the others, the admin state) stays
    in the serving process (:class:`lbhealth.app.sharing.Sharing`).
    """

    def __init__(self, engine: Engine, url: str) -> None:
        self.link = StoreLink(url)
        self.probe = ProbeSharing(engine, self.link)
        engine.observers.append(self.probe.observe)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.link.recover()
        self._tasks = [
            asyncio.create_task(self.link.supervise()),
            asyncio.create_task(self.probe.run()),
        ]

    async def stop(self) -> None:
        """Give the leases up (another instance probes at once), close the link."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.link.health.sharing:
            await self.probe.release()
        await self.link.aclose()


class ProbeProcess:
    """The serving side of the child: starts it, feeds it configs, records its results."""

    def __init__(self, engine: Engine, lag: ScheduleLag, setup_logging: Callable[[], None]) -> None:
        self.engine = engine
        self.lag = lag
        self._setup_logging = setup_logging
        self.generation = 0
        self.restarts = 0
        self._conn: Connection | None = None
        self._process: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._backoff = FIRST_BACKOFF
        self._restart: asyncio.TimerHandle | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the child and give it the current inventory (on the serving loop)."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        context = _context()
        parent, child = context.Pipe()
        process = context.Process(  # type: ignore[attr-defined]
            target=child_main,
            args=(child, self._setup_logging),
            name="lbhealth-prober",
            daemon=True,
        )
        process.start()
        child.close()
        self._conn, self._process = parent, process
        self._send(Configure(self.generation, self.engine.inventory))
        threading.Thread(
            target=self._receive, args=(parent,), name="lbhealth-probe-results", daemon=True
        ).start()
        log.info("probe process started", extra={"pid": process.pid})

    def reconfigure(self, inventory: Inventory) -> None:
        """A reload: results of the previous inventory are dropped from now on."""
        self.generation += 1
        self._send(Configure(self.generation, inventory))

    def _send(self, message: Configure | None) -> None:
        if self._conn is None:
            return
        try:
            self._conn.send(message)
        except (OSError, ValueError):
            log.warning("probe process unreachable; it is restarted")

    def _receive(self, conn: Connection) -> None:
        """A thread: unpickle results off the serving loop, hand them over ready."""
        assert self._loop is not None
        while True:
            try:
                report = conn.recv()
            except (EOFError, OSError):
                break
            self._loop.call_soon_threadsafe(self._record, report)
        conn.close()
        with contextlib.suppress(RuntimeError):  # the loop is closed: we are stopping
            self._loop.call_soon_threadsafe(self._ended, conn)

    def _record(self, report: Report) -> None:
        if report.generation != self.generation:
            return  # probed under an inventory a reload has replaced
        check = self.engine.check(report.key)
        if check is None:
            return
        self._backoff = FIRST_BACKOFF
        if report.lag is not None:
            self.lag.started(report.lag, check.interval)
        self.engine.record(check, report.result, report.kind)

    def _ended(self, conn: Connection) -> None:
        if self._stopping or conn is not self._conn:
            return
        code = self._process.exitcode if self._process is not None else None
        log.error(
            "probe process exited (code %s); restarting it in %.1fs, verdicts age meanwhile",
            code,
            self._backoff,
            extra={"exit_code": code},
        )
        self._conn = None
        assert self._loop is not None
        self._restart = self._loop.call_later(self._backoff, self._restart_child)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)

    def _restart_child(self) -> None:
        if self._stopping:
            return
        self.restarts += 1
        self.start()

    async def stop(self) -> None:
        """Tell the child to stop and wait for it, killing it past a grace period."""
        self._stopping = True
        if self._restart is not None:
            self._restart.cancel()
        self._send(None)  # the child stops, closing the pipe: the receiving thread ends
        process = self._process
        self._conn = self._process = None
        if process is not None:
            await asyncio.to_thread(process.join, STOP_GRACE)
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join, STOP_GRACE)
