"""What every subcommand shares: exit codes, output formats, where the inventory and service are.

Exit codes, the same for every subcommand, so scripts can tell "the answer is no"
from "I could not ask":

====  ==========================================================================
0     success; UP (``probe``), UP or DEGRADED (``status``)
1     DOWN (``probe``, ``status``), or the service refused (``admin``: 401, 404, ...)
2     bad usage or invalid inventory (argparse errors, ``check-config``, ``export``)
3     unreachable: no answer from the service, or not an lbhealth answer
====  ==========================================================================
"""

from __future__ import annotations

import argparse
import os

from lbhealth.config import ConfigError

EXIT_OK, EXIT_DOWN, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
DEFAULT_URL = "http://127.0.0.1:8080"
FORMATS = ("text", "json")


def config_path(explicit: str | None, flag: str = "--config FILE") -> str:
    """The inventory file: the command line's, else ``$LBHEALTH_CONFIG``."""
    path = explicit or os.environ.get("LBHEALTH_CONFIG")
    if not path:
        raise ConfigError([f"no inventory given: pass {flag} or set LBHEALTH_CONFIG"])
    return path


def add_url(parser: argparse.ArgumentParser) -> None:
    """``--url``: where a running lbhealth is; ``$LBHEALTH_URL``, else the default listener."""
    parser.add_argument(
        "--url",
        default=os.environ.get("LBHEALTH_URL", DEFAULT_URL),
        help="lbhealth base URL (default: $LBHEALTH_URL or %(default)s)",
    )


def add_format(parser: argparse.ArgumentParser) -> None:
    """``--format text|json``: json prints one JSON document on stdout, for scripts."""
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
