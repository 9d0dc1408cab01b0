"""What every subcommand shares: exit codes, where the inventory and the service are.

Exit codes: 0 success (or UP), 1 DOWN (``probe``, ``status``) or refused
(``admin``), 2 bad usage or invalid config; ``status`` also exits 2 when the
service cannot be reached.
"""

from __future__ import annotations

import os

from lbhealth.config import ConfigError

EXIT_OK, EXIT_DOWN, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 2
DEFAULT_URL = "http://127.0.0.1:8080"


def config_path(explicit: str | None, flag: str = "--config FILE") -> str:
    """The inventory file: the command line's, else ``$LBHEALTH_CONFIG``."""
    path = explicit or os.environ.get("LBHEALTH_CONFIG")
    if not path:
        raise ConfigError([f"no inventory given: pass {flag} or set LBHEALTH_CONFIG"])
    return path


def service_url() -> str:
    """Where a running lbhealth is: ``$LBHEALTH_URL``, else the default listener."""
    return os.environ.get("LBHEALTH_URL", DEFAULT_URL)
