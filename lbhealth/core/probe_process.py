"""Probing in its own process: the scheduler, the probes and the page reading never share the
serving loop.

One event loop that serves monitors *and* probes and parses pages makes a
monitor's answer wait behind a 1 MiB page being read (hundreds of ms) and
lets heavy probe load starve the answers. So in background mode the serving
process runs no probe: a child process (:mod:`lbhealth.core.probe_child`) runs
an :class:`~lbhealth.core.engine.Engine` with the scheduler, and sends every
result back over a pipe (:mod:`lbhealth.core.probe_messages`). A thread of the
serving process receives (and unpickles) them, and hands ready results to the
serving loop, which only records them: a dict update and the prebuilt answer.

Nothing here blocks the serving loop either: a child is started in a thread (a
fork server may have to start and import lbhealth first), and the messages to
it (an inventory of 1000 nodes pickles to ~180 KB, about a socket buffer) are
sent by one task per child, each in a thread, in order. Each inventory carries a
generation number, so results probed under a config that a reload has since
replaced are dropped.

The child is started from a fork server that has lbhealth imported already, so
starting one costs milliseconds. It exits when the pipe closes (its parent is
gone, even after ``kill -9``). It is replaced, with backoff, when it dies, when
it sends what cannot be read, when it falls silent (no heartbeat for
:data:`STALL_AFTER` seconds: its loop is stuck) and when starting it fails; the
backoff starts over only after a child ran :data:`STABLE_AFTER` seconds. A new
child gets the results known here, so it keeps the schedule (no burst of probes)
and the rise/fall state. Until then the verdicts age to ``stale`` DOWN
(``max_age``): never a silent UP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from lbhealth.config import Inventory
from lbhealth.core import probe_child
from lbhealth.core.engine import Engine
from lbhealth.core.lag import ScheduleLag
from lbhealth.core.probe_messages import (
    ChildStart,
    Configure,
    Heartbeat,
    Known,
    LinkReport,
    Report,
)
from lbhealth.store.link import instance_id

log = logging.getLogger("lbhealth.probe_process")

#: Seconds before restarting a child that died, doubling up to :data:`MAX_BACKOFF`.
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
#: A child that kept talking this long ran well: the next restart waits FIRST_BACKOFF again.
STABLE_AFTER = 60.0
#: Seconds without a word from the child (it sends a heartbeat every second) before it
#: counts as stuck, and is killed and replaced.
STALL_AFTER = 10.0
#: Seconds between two looks for a silent child.
WATCH_EVERY = 1.0
#: Seconds a stopping child gets to finish before it is killed.
STOP_GRACE = 3.0
#: In a child's outbox: close the pipe once everything before it is sent.
_HANG_UP = "hang up"


def _context() -> multiprocessing.context.BaseContext:
    """A fork server with lbhealth preloaded: cheap starts, and safe from a threaded parent."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([probe_child.__name__])
    return context


def _launch(setup_logging: Callable[[], None]) -> tuple[Any, Connection]:
    """Blocking, so in a thread: a started child, and the parent's end of its pipe."""
    context = _context()
    parent, child = context.Pipe()
    try:
        process = context.Process(  # type: ignore[attr-defined]
            target=probe_child.child_main,
            args=(child, setup_logging),
            name="lbhealth-prober",
            daemon=True,
        )
        process.start()
    except BaseException:
        parent.close()
        raise
    finally:
        child.close()
    return process, parent


class Child:
    """One child process: its pipe, the task that writes to it in order, what it last said."""

    def __init__(self, process: Any, conn: Connection, now: float) -> None:
        self.process = process
        self.conn = conn
        #: Loop times of its start and of its last word (a heartbeat or a result).
        self.started = self.heard = now
        #: Its store link, as its last heartbeat told.
        self.store: LinkReport | None = None
        self.killed = False
        self.reader: threading.Thread | None = None
        self._outbox: asyncio.Queue[Configure | str | None] = asyncio.Queue()
        self._closing = False
        self._sender = asyncio.create_task(self._send_all())

    def post(self, message: Configure | None) -> None:
        """Send ``message`` after the ones posted before (``None``: stop)."""
        if not self._closing:
            self._outbox.put_nowait(message)

    async def _send_all(self) -> None:
        gone = False
        while (message := await self._outbox.get()) is not _HANG_UP:
            if gone:
                continue
            try:  # pickling and a full pipe block: never on the serving loop
                await asyncio.to_thread(self.conn.send, message)
            except (OSError, ValueError):
                gone = True  # the child is gone; the reading thread finds out too
            except Exception:
                log.exception("could not send to the probe process")
        self.conn.close()

    def close(self) -> None:
        """Close the pipe once what was posted is sent (or found undeliverable)."""
        if not self._closing:
            self._closing = True
            self._outbox.put_nowait(_HANG_UP)

    async def closed(self) -> None:
        self.close()
        await asyncio.gather(self._sender, return_exceptions=True)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()


class ProbeProcess:
    """The serving side of the child: starts it, feeds it configs, records its results, and
    replaces it when it dies, falls silent or cannot be started."""

    def __init__(self, engine: Engine, lag: ScheduleLag, setup_logging: Callable[[], None]) -> None:
        self.engine = engine
        self.lag = lag
        self._setup_logging = setup_logging
        self.stall_after = STALL_AFTER
        self.generation = 0
        #: Children started after the first one (it died, fell silent or could not start).
        self.restarts = 0
        #: Children killed because they fell silent: their loop was stuck.
        self.stalls = 0
        #: Tries to start a child that failed, and why the last one did (None once one ran).
        self.start_failures = 0
        self.failure: str | None = None
        #: Results the children published to the store, and dropped, all children together.
        self.sent = 0
        self.dropped = 0
        self._child: Child | None = None
        self._names: deque[str] = deque(maxlen=2)  # the current child's and the one before
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._backoff = FIRST_BACKOFF
        self._restart: asyncio.TimerHandle | None = None
        self._watching: asyncio.TimerHandle | None = None
        self._spawning: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._child.process.pid if self._child is not None else None

    @property
    def problem(self) -> str | None:
        """Why no child probes now (what ``/readyz`` says), or None while one does."""
        if self.failure is not None:
            return f"could not be started ({self.failure}); retrying, verdicts age meanwhile"
        if self.starting:
            return "starting, verdicts age meanwhile"
        child = self._child
        if child is None or not child.process.is_alive():
            return "not running; restarting it, verdicts age meanwhile"
        silent = self._now() - child.heard
        if silent > self.stall_after:
            return f"silent for {silent:.0f}s, its loop stuck; replacing it, verdicts age meanwhile"
        return None

    @property
    def starting(self) -> bool:
        """A child is being started (in a thread: a fork server may be starting too)."""
        return self._spawning is not None and not self._spawning.done()

    @property
    def alive(self) -> bool:
        return self.problem is None

    @property
    def store(self) -> LinkReport | None:
        """The child's store link, as its last heartbeat told (None: no word yet, or no store)."""
        return self._child.store if self._child is not None else None

    def publishes_as(self, instance: str) -> bool:
        """Whether ``instance`` names this service's probe process in the store."""
        return instance in self._names

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def start(self) -> None:
        """Start the child (in a thread); it gets the current inventory once it runs."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._spawning = self._loop.create_task(self._spawn())
        self._watching = self._loop.call_later(WATCH_EVERY, self._watch)

    async def started(self) -> None:
        """Until the child runs, or starting it failed (and is retried): for a service's start,
        so that it listens with its probe process running."""
        if self._spawning is not None:
            await asyncio.shield(self._spawning)

    async def _spawn(self) -> None:
        try:
            process, conn = await asyncio.to_thread(_launch, self._setup_logging)
        except Exception as exc:  # EMFILE, EAGAIN or ENOMEM on fork, a failing fork server
            self.start_failures += 1
            self.failure = f"{type(exc).__name__}: {exc}"
            log.error(
                "could not start the probe process (%s); retrying in %.1fs, verdicts age meanwhile",
                self.failure,
                self._backoff,
            )
            self._retry_later()
            return
        if self._names:
            self.restarts += 1
        self.failure = None
        child = self._child = Child(process, conn, self._now())
        name = instance_id(process.pid)
        self._names.append(name)
        start = ChildStart(name, self._known())
        child.post(Configure(self.generation, self.engine.inventory, start))
        child.reader = threading.Thread(
            target=self._receive, args=(child,), name="lbhealth-probe-results", daemon=True
        )
        child.reader.start()
        log.info("probe process started", extra={"pid": process.pid})

    def _known(self) -> tuple[Known, ...]:
        """The latest result of each check, for a new child to continue from."""
        verdicts = self.engine.verdicts
        return tuple(
            Known(check.key, stored.result, verdicts.to_wall(stored.probed_at))
            for checks in self.engine.checks.values()
            for check in checks
            if (stored := verdicts.get(check.key)) is not None
        )

    def reconfigure(self, inventory: Inventory) -> None:
        """A reload: results of the previous inventory are dropped from now on."""
        self.generation += 1
        if self._child is not None:
            self._child.post(Configure(self.generation, inventory))

    def _receive(self, child: Child) -> None:
        """A thread: unpickle results off the serving loop, hand them over ready."""
        assert self._loop is not None
        while True:
            try:
                message = child.conn.recv()
            except (EOFError, OSError):
                break
            except Exception as exc:  # what does not unpickle: nothing after it can be trusted
                log.error("unreadable message from the probe process (%s); replacing it", exc)
                break
            self._loop.call_soon_threadsafe(self._record, child, message)
        with contextlib.suppress(RuntimeError):  # the loop is closed: we are stopping
            self._loop.call_soon_threadsafe(self._ended, child)

    def _record(self, child: Child, message: object) -> None:
        if child is not self._child:
            return
        child.heard = self._now()
        if isinstance(message, Heartbeat):
            self._heartbeat(child, message.store)
        if not isinstance(message, Report) or message.generation != self.generation:
            return  # probed under an inventory a reload has replaced
        check = self.engine.check(message.key)
        if check is None:
            return
        if message.lag is not None:
            self.lag.started(message.lag, check.interval)
        self.engine.record(check, message.result, message.kind)

    def _heartbeat(self, child: Child, store: LinkReport | None) -> None:
        before, child.store = child.store, store
        if store is not None:  # a child's counters start at 0: add what they grew by
            self.sent += store.sent - (before.sent if before else 0)
            self.dropped += store.dropped - (before.dropped if before else 0)

    def _watch(self) -> None:
        """Every second: kill a child that fell silent; its end then replaces it."""
        assert self._loop is not None
        self._watching = self._loop.call_later(WATCH_EVERY, self._watch)
        child = self._child
        if child is None or child.killed:
            return
        silent = self._now() - child.heard
        if silent > self.stall_after:
            self.stalls += 1
            child.killed = True
            log.error(
                "probe process (pid %s) silent for %.0fs, its event loop stuck; killing it",
                child.process.pid,
                silent,
                extra={"pid": child.process.pid},
            )
            child.kill()

    def _ended(self, child: Child) -> None:
        if child is not self._child:
            return  # stopping, or replaced already
        self._child = None
        child.kill()  # after an unreadable message it may still run
        child.close()
        if child.heard - child.started >= STABLE_AFTER:
            self._backoff = FIRST_BACKOFF  # it ran well: this is no crash loop
        code = child.process.exitcode
        log.error(
            "probe process exited (code %s); restarting it in %.1fs, verdicts age meanwhile",
            code,
            self._backoff,
            extra={"exit_code": code},
        )
        self._retry_later()

    def _retry_later(self) -> None:
        if self._stopping:
            return
        assert self._loop is not None
        self._restart = self._loop.call_later(self._backoff, self._restart_child)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)

    def _restart_child(self) -> None:
        if not self._stopping:
            self._spawning = asyncio.get_running_loop().create_task(self._spawn())

    async def stop(self) -> None:
        """Tell the child to stop and wait for it, killing it past a grace period."""
        self._stopping = True
        for handle in (self._restart, self._watching):
            if handle is not None:
                handle.cancel()
        if self._spawning is not None:  # a start in a thread cannot be cancelled: let it end
            await asyncio.gather(self._spawning, return_exceptions=True)
        child, self._child = self._child, None
        if child is None:
            return
        child.post(None)  # the child stops, closing the pipe: the receiving thread ends
        process = child.process
        await asyncio.to_thread(process.join, STOP_GRACE)
        if process.is_alive():
            process.kill()
            await asyncio.to_thread(process.join, STOP_GRACE)
        if child.reader is not None:  # the pipe is closed only once nothing reads it
            await asyncio.to_thread(child.reader.join, STOP_GRACE)
        await child.closed()
