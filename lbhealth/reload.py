"""Reload the inventory from its file, on ``SIGHUP`` or ``POST /admin/reload``.

A reload must never cost a monitor an answer: the new file is validated
completely first, and only a valid one replaces the running config, in one
synchronous step on the event loop (:meth:`Engine.reconfigure`), keeping the
verdicts of unchanged checks. An invalid file is rejected with its error lines
logged and returned, and the old config keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lbhealth.config import ConfigError, Inventory, load_inventory

if TYPE_CHECKING:
    from lbhealth.app import LBHealth

log = logging.getLogger("lbhealth.reload")


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload did: the counts of kept/new/removed checks, or why it was refused."""

    source: str
    errors: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, object]:
        if self.ok:
            return {"status": "reloaded", "source": self.source, **self.counts}
        return {"status": "rejected", "source": self.source, "errors": list(self.errors)}


def _keep_listener(new: Inventory, running: Inventory) -> Inventory:
    """The listening address cannot change without a restart: keep the running one."""
    settings = new.settings.model_copy(
        update={"host": running.settings.host, "port": running.settings.port}
    )
    return Inventory(settings=settings, nodes=new.nodes, source=new.source)


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
            inventory = _keep_listener(load_inventory(path), service.engine.inventory)
            service.admin.follow(inventory)
        except ConfigError as exc:
            result = ReloadResult(path, tuple(exc.errors))
        else:
            result = ReloadResult(path, counts=service.reconfigure(inventory))
    if result.ok:
        log.info(
            "config reloaded from %s (%s)", result.source, trigger, extra={**extra, **result.counts}
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

    Signal handlers exist only in the main thread: an lbhealth embedded in
    another thread (the tests) has the admin endpoint alone.
    """
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
