"""Reload the inventory from its file, on ``SIGHUP`` or ``POST /admin/reload``.

A reload must never cost a monitor an answer: the new file is read and
validated completely first, in a thread (files are never read on the event
loop), and only a valid one replaces the running config, in one synchronous
step on the event loop (:meth:`Reloadable.reconfigure`), keeping the verdicts
of unchanged checks. An invalid file is rejected with its error lines logged
and returned, and the old config keeps serving.

Settings read once at start (:data:`RESTART_ONLY`) keep their running values
through a reload; the ones the file changed since lbhealth started are named in
the result and the log line, so an operator knows a restart is still due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from lbhealth.config import ConfigError, Inventory, Settings, load_inventory
from lbhealth.store.entries import AdminEntry
from lbhealth.store.state_file import read_state_file

log = logging.getLogger("lbhealth.reload")

#: Settings used only when lbhealth starts: the listener, the agent-check listener,
#: logging, the client connection limits, the size of the history buffers, the store, and
#: whether probes run in a child process.
RESTART_ONLY = (
    "host",
    "port",
    "agent_port",
    "log_level",
    "access_log",
    "max_connections",
    "max_connections_per_client",
    "keep_alive_timeout",
    "request_timeout",
    "history_size",
    "probe_process",
    "store",
)


def startup_values(settings: Settings) -> dict[str, object]:
    """The :data:`RESTART_ONLY` values of some settings."""
    return {name: getattr(settings, name) for name in RESTART_ONLY}


class Reloadable(Protocol):
    """What a reload needs of the running service."""

    #: The inventory file (None: built in memory, nothing to reload).
    config_path: str | None
    #: The :data:`RESTART_ONLY` values the config *file* gave at start: a reload
    #: compares with these, not the running values (``--host``/``--port``
    #: override the file, and an unchanged file must not ask for a restart).
    at_start: Mapping[str, object] | None
    #: With several workers, the supervisor that forwards a reload to all of them.
    supervisor_pid: int | None

    @property
    def settings(self) -> Settings: ...

    def reconfigure(
        self, inventory: Inventory, admin_entries: dict[str, AdminEntry] | None
    ) -> dict[str, int]:
        """Serve ``inventory`` (and the state file's entries, read already); the check counts."""
        ...


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload did: the counts of kept/new/removed checks and the changed
    settings that wait for a restart, or why it was refused."""

    source: str
    errors: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    restart_needed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, object]:
        if self.ok:
            return {
                "status": "reloaded",
                "source": self.source,
                **self.counts,
                "restart_needed": list(self.restart_needed),
            }
        return {"status": "rejected", "source": self.source, "errors": list(self.errors)}


def read_config(path: str) -> tuple[Inventory, dict[str, AdminEntry] | None]:
    """Blocking: the inventory file and the state file it names, both validated."""
    inventory = load_inventory(path)
    state_file = inventory.settings.state_file
    return inventory, read_state_file(state_file) if state_file else None


def _keep_startup_settings(
    service: Reloadable, new: Inventory
) -> tuple[Inventory, tuple[str, ...]]:
    """``new`` with the running values of :data:`RESTART_ONLY`, and the names the file changed."""
    running = startup_values(service.settings)
    at_start = service.at_start or running
    changed = tuple(n for n, value in at_start.items() if getattr(new.settings, n) != value)
    settings = new.settings.model_copy(update=running)
    return Inventory(settings=settings, nodes=new.nodes, source=new.source), changed


def log_rejected(result: ReloadResult, extra: Mapping[str, object]) -> None:
    log.error(
        "config reload rejected, still serving the previous config: %s",
        "; ".join(result.errors),
        extra={**extra, "errors": list(result.errors)},
    )


async def reload_inventory(service: Reloadable, trigger: str) -> ReloadResult:
    """Validate the config file again and, when valid, serve it from now on."""
    extra = {"action": "reload", "trigger": trigger}
    path = service.config_path
    if path is None:
        result = ReloadResult(
            "", ("lbhealth was started without a config file: nothing to reload",)
        )
    else:
        try:
            loaded, entries = await asyncio.to_thread(read_config, path)
        except ConfigError as exc:
            result = ReloadResult(path, tuple(exc.errors))
        else:
            inventory, restart_needed = _keep_startup_settings(service, loaded)
            counts = service.reconfigure(inventory, entries)
            result = ReloadResult(path, counts=counts, restart_needed=restart_needed)
    if result.ok:
        pending = ", ".join(result.restart_needed)
        log.log(
            logging.WARNING if pending else logging.INFO,
            "config reloaded from %s (%s)%s",
            result.source,
            trigger,
            f"; restart needed for {pending} (running values kept)" if pending else "",
            extra={**extra, **result.counts, "restart_needed": list(result.restart_needed)},
        )
    else:
        log_rejected(result, extra)
    return result


def install_sighup(service: Reloadable) -> Callable[[], None]:
    """Reload on SIGHUP (the Unix convention); returns the function that uninstalls it.

    Signal handlers exist only in the main thread: an lbhealth embedded in
    another thread (the tests) has the admin endpoint alone.
    """
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[ReloadResult]] = set()

    def on_sighup() -> None:
        task = loop.create_task(reload_inventory(service, "SIGHUP"))
        running.add(task)
        task.add_done_callback(running.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_sighup)
    except (ValueError, RuntimeError, NotImplementedError):
        log.debug("SIGHUP reload not available outside the main thread")
        return lambda: None

    def uninstall() -> None:
        with contextlib.suppress(ValueError, RuntimeError):
            loop.remove_signal_handler(signal.SIGHUP)

    return uninstall
