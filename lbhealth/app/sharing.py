"""Several instances as one, and restarts that never flip a node: the pieces, composed.

:class:`Sharing` (with ``settings.store``) holds one store link and every piece
over it: the probe side (:class:`lbhealth.core.sharing.ProbeSharing`: the
scheduler's lease gate, the publishing observer), the serve side (the
subscription whose results :meth:`lbhealth.core.engine.Engine.accept` takes, the
shared admin state behind :class:`lbhealth.store.admin.AdminStore`), and the
link's supervision. Started before probing, so a new instance serves the shared
verdicts and admin state from its first answer; stopped after it, releasing its
leases so another instance takes over at once.

:class:`VerdictKeeper` keeps the verdict file (``settings.verdict_file``): read
before probing, written in the background at most every :data:`KEEP_EVERY`
seconds, and once more at stop.

:func:`store_lines` is what ``/readyz?verbose`` says of the store, and
:class:`StoreCollector` what ``/metrics`` does. With the probe process, the probe
side's link, leases and counters are the child's (its heartbeat tells them:
:attr:`lbhealth.core.probe_process.ProbeProcess.store`), not this process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lbhealth.core.checks import Check
from lbhealth.core.engine import Engine
from lbhealth.core.probe_messages import LinkReport
from lbhealth.core.probe_process import ProbeProcess
from lbhealth.core.sharing import KeyIndex, ProbeSharing, start_link, stop_link
from lbhealth.store.admin import AdminStore
from lbhealth.store.follow import Subscription, snapshot
from lbhealth.store.health import STATES, State
from lbhealth.store.link import StoreLink, StoreUnavailable, instance_id
from lbhealth.store.shared import ADMIN, RESULTS, SharedResult
from lbhealth.store.shared_admin import SharedAdmin
from lbhealth.store.verdict_file import read_verdict_file, write_verdict_file

log = logging.getLogger("lbhealth.store")

#: Least seconds between two writes of the verdict file.
KEEP_EVERY = 1.0


class Sharing:
    """This instance's part in a group sharing one store."""

    def __init__(
        self,
        engine: Engine,
        admin: AdminStore,
        url: str,
        probing: bool = True,
        ours: Callable[[str], bool] = lambda _by: False,
    ) -> None:
        self.engine = engine
        self.link = StoreLink(url)
        self.probe = ProbeSharing(engine, self.link)
        #: This process probes (inline), so it takes leases and publishes; with the probe
        #: process, the child does both over its own link (:mod:`lbhealth.core.probe_process`).
        self.probing = False
        #: Whether a publisher's name is this instance's probe process: its results are
        #: this instance's own (they came over the pipe), never accepted from others.
        self.ours = ours
        self.index = self.probe.index
        self.subscription = Subscription(self.link)
        self.admin = SharedAdmin(self.link, admin)
        #: Results of other instances served here.
        self.accepted = 0
        self.subscription.handle(RESULTS, self._on_result)
        self.subscription.handle(ADMIN, self.admin.receive)
        # Subscribe first, then reload: a change published meanwhile is not lost.
        self.link.on_recovery(self.subscription.resubscribe)
        self.link.on_recovery(self._load_verdicts)
        self.link.on_recovery(self.admin.resync)
        admin.remote = self.admin
        self._tasks: list[asyncio.Task[None]] = []
        self.set_probing(probing)

    def set_probing(self, probing: bool) -> None:
        """Publish this process's results while it probes, not while the probe process does
        (a reload between on-demand and background mode switches): each result once."""
        if probing != self.probing:
            self.probing = probing
            if probing:
                self.engine.observers.append(self.probe.observe)
            else:
                self.engine.observers.remove(self.probe.observe)

    def _accept(self, shared: SharedResult) -> None:
        if self.index.accept(shared):
            self.accepted += 1

    def _on_result(self, payload: bytes) -> None:
        try:
            shared = SharedResult.decode(payload)
        except ValueError as exc:
            log.warning("ignoring a result from the store: %s", exc)
            return
        if shared.by != self.link.instance and not self.ours(shared.by):
            self._accept(shared)

    async def _load_verdicts(self) -> None:
        for shared in await snapshot(self.link, self.index.all()):
            self._accept(shared)

    def reloaded(self) -> None:
        """After a reload: nodes and checks new to this instance take their shared state."""
        if self.link.health.sharing:
            running = [task for task in self._tasks if not task.done()]
            self._tasks = [*running, asyncio.create_task(self._reload_shared())]

    async def _reload_shared(self) -> None:
        with contextlib.suppress(StoreUnavailable):
            await self.admin.resync()
            await self._load_verdicts()

    async def start(self) -> None:
        """Connect and sync once (bounded by the calls' timeouts), then keep at it."""
        # The publisher idles while the probe process publishes; a reload may switch.
        self._tasks = await start_link(self.link, self.probe)

    async def stop(self) -> None:
        await stop_link(self._tasks, self.probe, release=self.probing)
        await self.subscription.aclose()
        await self.link.aclose()


class VerdictKeeper:
    """The verdict file: the engine's results across restarts (when a path is set)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.index = KeyIndex(engine)
        self._by = instance_id()
        self._due = False
        engine.listeners.append(self._on_result)

    def _on_result(self, _check: Check) -> None:
        self._due = True

    async def load(self) -> int:
        """Serve the file's results that are still fresh; how many were taken."""
        path = self.engine.inventory.settings.verdict_file
        if path is None:
            return 0
        try:
            kept = await asyncio.to_thread(read_verdict_file, path)
        except ValueError as exc:
            log.warning("verdict file ignored: %s", exc, extra={"verdict_file": str(path)})
            return 0
        taken = sum(self.index.accept(shared) for shared in kept)
        log.info(
            "%d of %d verdicts taken from the verdict file",
            taken,
            len(kept),
            extra={"verdict_file": str(path), "taken": taken},
        )
        return taken

    def _results(self) -> Iterator[SharedResult]:
        verdicts = self.engine.verdicts
        for checks in self.engine.checks.values():
            for check in checks:
                stored = verdicts.get(check.key)
                if stored is not None:
                    at = verdicts.to_wall(stored.probed_at)
                    yield SharedResult(self.index.key(check), stored.result, at, self._by)

    async def save(self) -> None:
        """Write the file now (in a thread) if a result changed since the last write."""
        path = self.engine.inventory.settings.verdict_file
        if path is None or not self._due:
            return
        self._due = False
        try:
            await asyncio.to_thread(write_verdict_file, path, list(self._results()))
        except OSError as exc:
            log.warning(
                "could not write the verdict file: %s", exc, extra={"verdict_file": str(path)}
            )

    async def run(self, every: float = KEEP_EVERY) -> None:
        """Until cancelled: write the file when results changed, at most every ``every`` s."""
        while True:
            await asyncio.sleep(every)
            await self.save()


def probe_link(sharing: Sharing, prober: ProbeProcess | None) -> LinkReport | None:
    """The probe side's store link: the probe process's, as its last heartbeat told (None
    before the first), or this process's own when it probes itself."""
    if prober is None:
        return LinkReport.of(sharing.link, sharing.probe)
    return prober.store


def _probing(report: LinkReport | None, in_child: bool, serving: State) -> str:
    """What the probe side does, by its link's state (named when it differs from this one's)."""
    if report is None:
        return "the probe process has not reported on its store link yet"
    if report.state == "connected":
        return f"probes shared, {report.leases} lease(s) held by {report.instance}"
    alone = "probing alone" if report.state == "unreachable" else "probing alone until in sync"
    if not in_child or report.state == serving:
        return alone
    why = f" ({report.last_error})" if report.state == "unreachable" else ""
    return f"{alone}: the probe process's link is {report.state} for {report.age:.0f}s{why}"


def store_lines(sharing: Sharing | None, prober: ProbeProcess | None = None) -> list[str]:
    """What ``/readyz?verbose`` says of the store. Never a failure: without the store each
    instance still probes and serves, so it stays ready (a Service keeps it)."""
    if sharing is None:
        return ["[+]store ok: none set; this instance probes and serves alone"]
    health = sharing.link.health
    line = f"[+]store {health.state} for {health.age():.0f}s: {health.shown}"
    if health.state == "unreachable":
        line += f" ({health.last_error})"
    probing = _probing(probe_link(sharing, prober), prober is not None, health.state)
    serving = ", serving the last admin state known" if health.state == "unreachable" else ""
    return [f"{line}; {probing}{serving}"]


class StoreCollector(Collector):
    """The store links' states and counters, read at scrape time."""

    def __init__(
        self, sharing: Sharing, prober: Callable[[], ProbeProcess | None] = lambda: None
    ) -> None:
        self.sharing = sharing
        self.prober = prober

    def collect(self) -> Iterator[Metric]:
        sharing, prober = self.sharing, self.prober()
        health = sharing.link.health
        report = probe_link(sharing, prober)
        state = GaugeMetricFamily(
            "lbhealth_store_state",
            "1 for the store link's current state (connected, unreachable, recovering)",
            labels=["state"],
        )
        probe_state = GaugeMetricFamily(
            "lbhealth_store_probe_link_state",
            "1 for the current state of the probe side's store link (the probe process's own)",
            labels=["state"],
        )
        transitions = CounterMetricFamily(
            "lbhealth_store_transitions",
            "Store link state changes, by the state entered",
            labels=["to"],
        )
        for name in STATES:
            state.add_metric([name], int(health.state == name))
            probe_state.add_metric([name], int(report is not None and report.state == name))
            transitions.add_metric([name], health.transitions[name])
        yield state
        yield probe_state
        yield transitions
        yield GaugeMetricFamily(
            "lbhealth_store_leases_held",
            "Checks this instance probes for all (leases held)",
            value=report.leases if report is not None else 0,
        )
        publisher = sharing.probe.publisher  # what this process published (inline, on-demand)
        sent, dropped = publisher.sent, publisher.dropped
        if prober is not None:
            sent, dropped = sent + prober.sent, dropped + prober.dropped
        results = CounterMetricFamily(
            "lbhealth_store_results",
            "Results sent to the store, dropped (store not connected), taken from others",
            labels=["outcome"],
        )
        results.add_metric(["sent"], sent)
        results.add_metric(["dropped"], dropped)
        results.add_metric(["accepted"], sharing.accepted)
        yield results
