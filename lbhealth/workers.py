"""``lbhealth serve --workers N``: N uvicorn worker processes on one port.

uvicorn starts workers from an import string, so each worker builds its app
with :func:`app_from_env` from the inventory path in ``LBHEALTH_CONFIG``. Each
worker has its own verdicts and its own scheduler: the backends see N times
the probes of one worker (still at most ``N * (T / interval + 1)`` per check
over T seconds, whatever the monitor load). Raise ``interval`` N-fold to keep
the backend load of a single worker.
"""

from __future__ import annotations

import os
from pathlib import Path

from uvicorn.supervisors import Multiprocess

from lbhealth.app import LBHealth, create_app
from lbhealth.cli import _uvicorn_config
from lbhealth.config import Settings, load_inventory
from lbhealth.logs import setup_logging


def app_from_env() -> LBHealth:
    """The app of one worker process (``uvicorn --factory lbhealth.workers:app_from_env``)."""
    inventory = load_inventory(os.environ["LBHEALTH_CONFIG"])
    setup_logging(inventory.settings.log_level)
    return create_app(inventory)


def serve_workers(config_path: str, settings: Settings, workers: int) -> None:
    """Bind once, then let uvicorn's supervisor run ``workers`` processes on the socket."""
    os.environ["LBHEALTH_CONFIG"] = str(Path(config_path).resolve())
    config = _uvicorn_config(
        "lbhealth.workers:app_from_env",
        settings.host,
        settings.port,
        settings.log_level,
        settings,
    )
    config.factory = True
    config.workers = workers
    sock = config.bind_socket()
    Multiprocess(config, sockets=[sock]).run()
