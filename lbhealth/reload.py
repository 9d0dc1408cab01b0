"""Reload the inventory from its file, on ``SIGHUP`` or ``POST /admin/reload``.

A reload must never cost a monitor an answer: the new file is validated
completely first, and only a valid one replaces the running config, in one
synchronous step on the event loop (:meth:`Engine.reconfigure`), keeping the
verdicts of unchanged checks. An invalid file is rejected with its error lines
logged and returned, and the old config keeps serving.

Settings read once at start (:data:`RESTART_ONLY`) keep their running values
through a reload; the ones the file changed since lbhealth started are named in
the result and the log line, so an operator knows a restart is still due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lbhealth.config import ConfigError, Inventory, Settings, load_inventory

if TYPE_CHECKING:
    from lbhealth.app import LBHealth

log = logging.getLogger("lbhealth.reload")

#: Settings used only when lbhealth starts: the listener, the agent-check listener,
#: logging, uvicorn's connection limits and the size of the history buffers.
RESTART_ONLY = (
    "host",
    "port",
    "agent_port",
    "log_level",
    "access_log",
    "max_connections",
    "keep_alive_timeout",
    "history_size",
)
#: Per service, the RESTART_ONLY values its config file gave at start. A reload
#: compares with these, not the running values: ``--host``/``--port`` override
#: the file, and an unchanged file must not ask for a restart.
_AT_START: weakref.WeakKeyDictionary[LBHealth, dict[str, object]] = weakref.WeakKeyDictionary()


def _startup_values(settings: Settings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in RESTART_ONLY}


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


def _keep_startup_settings(service: LBHealth, new: Inventory) -> tuple[Inventory, tuple[str, ...]]:
    """``new`` with the running values of :data:`RESTART_ONLY`, and the names the file changed."""
    running = service.engine.inventory.settings
    at_start = _AT_START.get(service) or _startup_values(running)
    changed = tuple(n for n, value in at_start.items() if getattr(new.settings, n) != value)
    settings = new.settings.model_copy(update=_startup_values(running))
    return Inventory(settings=settings, nodes=new.nodes, source=new.source), changed


def reload_inventory(service: LBHealth, trigger: str) -> ReloadResult:
    """Validate the config file again and, when valid, serve it from now on."""
    extra = {"action": "reload", "trigger": trigger}
    path = service.config_path
    if path is None:
        result = ReloadResult(
            "", ("lbhealth was started without a config file: nothing to reload",)
        )
    else:
        try:
            inventory, restart_needed = _keep_startup_settings(service, load_inventory(path))
            service.admin.follow(inventory)
        except ConfigError as exc:
            result = ReloadResult(path, tuple(exc.errors))
        else:
            counts = service.reconfigure(inventory)
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
        log.error(
            "config reload rejected, still serving the previous config: %s",
            "; ".join(result.errors),
            extra={**extra, "errors": list(result.errors)},
        )
    return result


def install_sighup(service: LBHealth) -> Callable[[], None]:
    """Reload on SIGHUP (the Unix convention); returns the function that uninstalls it.

    Called once at start, it also notes what the config file says of the
    settings that need a restart, for reloads to compare with.
    Signal handlers exist only in the main thread: an lbhealth embedded in
    another thread (the tests) has the admin endpoint alone.
    """
    if service.config_path is not None:
        with contextlib.suppress(ConfigError):
            _AT_START[service] = _startup_values(load_inventory(service.config_path).settings)
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, reload_inventory, service, "SIGHUP")
    except (ValueError, RuntimeError, NotImplementedError):
        log.debug("SIGHUP reload not available outside the main thread")
        return lambda: None

    def uninstall() -> None:
        with contextlib.suppress(ValueError, RuntimeError):
            loop.remove_signal_handler(signal.SIGHUP)

    return uninstall
