"""``lbhealth serve --workers N``: N uvicorn worker processes on one port.

uvicorn starts workers from an import string, so each worker builds its app
with :func:`app_from_env` from the inventory path in ``LBHEALTH_CONFIG``. Each
worker has its own verdicts and its own scheduler: without a store the backends
see N times the probes of one worker (still at most ``N * (T / interval + 1)``
per check over T seconds, whatever the monitor load). With ``settings.store``
the workers share it like separate instances do: one probe per check per
interval between them, the same verdicts, and drain/maint pushed to all.

What one worker is told must reach all of them:

- drain/maint: every worker follows ``state_file`` (:meth:`AdminStore.watch`),
  so the admin API needs one with several workers (:func:`check_workers`);
- reload: the supervisor forwards ``SIGHUP`` to every worker, which reloads in
  place (verdicts kept), instead of uvicorn's default of restarting them all;
  ``POST /admin/reload`` validates the file, then sends the supervisor ``SIGHUP``;
- the agent-check port can be bound by one process only: refused with workers.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

from uvicorn.supervisors import Multiprocess

from lbhealth.admin.reload import startup_values
from lbhealth.app.logs import setup_logging
from lbhealth.app.server import uvicorn_config
from lbhealth.app.service import LBHealth, create_app
from lbhealth.config import ConfigError, Settings, load_inventory

log = logging.getLogger("lbhealth.workers")

#: Set by the supervisor for its workers: where ``POST /admin/reload`` sends ``SIGHUP``.
SUPERVISOR_ENV = "LBHEALTH_SUPERVISOR_PID"


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse the settings that several workers cannot honour, naming the fix."""
    errors = []
    if settings.admin_token is not None and settings.state_file is None and settings.store is None:
        errors.append(
            f"settings.admin_token with --workers {workers}: a drain or maint made through one"
            " worker would not reach the others; set settings.store or settings.state_file"
            " (every worker follows it) or run --workers 1"
        )
    if settings.agent_port is not None:
        errors.append(
            f"settings.agent_port with --workers {workers}: only one process can listen on"
            f" port {settings.agent_port}; run --workers 1 for the agent-check, or unset agent_port"
        )
    if errors:
        raise ConfigError(errors)


def app_from_env() -> LBHealth:
    """The app of one worker process (``uvicorn --factory lbhealth.app.workers:app_from_env``)."""
    path = os.environ["LBHEALTH_CONFIG"]
    inventory = load_inventory(path)
    settings = inventory.settings
    setup_logging(settings.log_level, access_log=settings.access_log)
    app = create_app(inventory, config_path=path, at_start=startup_values(settings))
    app.supervisor_pid = int(os.environ[SUPERVISOR_ENV])
    return app


class Supervisor(Multiprocess):
    """uvicorn's supervisor, except that ``SIGHUP`` reloads every worker in place."""

    def handle_hup(self) -> None:
        log.info("SIGHUP: every worker reloads the config file", extra={"action": "reload"})
        for process in self.processes:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, signal.SIGHUP)


def serve_workers(config_path: str, settings: Settings, workers: int) -> None:
    """Bind once, then let the supervisor run ``workers`` processes on the socket."""
    check_workers(settings, workers)
    os.environ["LBHEALTH_CONFIG"] = str(Path(config_path).resolve())
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    config = uvicorn_config(
        "lbhealth.app.workers:app_from_env",
        settings.host,
        settings.port,
        settings.log_level,
        settings,
    )
    config.factory = True
    config.workers = workers
    sock = config.bind_socket()
    Supervisor(config, sockets=[sock]).run()
