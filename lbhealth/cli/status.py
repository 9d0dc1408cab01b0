"""``lbhealth status``: the cluster view of a running service, as a terminal table.

For the network engineer with a shell on a jump host: no browser, one command.
It reads ``/cluster?format=json`` (the service's own view, never probing a
backend itself) and colours the states only on a terminal that wants colour:
``NO_COLOR`` set or output not a TTY means plain text, safe for pipes and logs.
Whatever the URL answered is cleaned before it reaches the terminal: the only
escape sequences printed are the colours chosen here.
``--format json`` prints that view as the service sent it, for scripts; the
exit code is the same either way (0 UP or DEGRADED, 1 DOWN, 3 unreachable).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import httpx

from lbhealth.cli.common import (
    EXIT_DOWN,
    EXIT_OK,
    EXIT_UNREACHABLE,
    add_format,
    add_url,
)
from lbhealth.cluster.table import cluster_table
from lbhealth.text.clean import clean_data

#: Longest text printed for one field (a reason, an impact line) of a cluster view.
TERMINAL_CELL = 1000


def wants_colour() -> bool:
    """https://no-color.org: any non-empty NO_COLOR disables colour."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def cmd_status(args: argparse.Namespace) -> int:
    url = args.url.rstrip("/") + "/cluster"
    try:
        response = httpx.get(url, params={"format": "json"}, timeout=args.timeout)
    except httpx.HTTPError as exc:
        print(f"error: cannot reach {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    try:
        view: Any = response.json()
    except ValueError:
        view = None
    if not isinstance(view, dict) or "tiers" not in view:
        print(
            f"error: {url} did not answer a cluster view (HTTP {response.status_code});"
            " is it lbhealth?",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    if args.format == "json":
        print(json.dumps(view, indent=2))
    else:
        view = clean_data(view, TERMINAL_CELL)
        sys.stdout.write(cluster_table(view, colour=wants_colour()))
    return EXIT_DOWN if view.get("status") == "DOWN" else EXIT_OK


def register(sub: Any) -> None:
    """Register ``status`` on the main parser's subcommands."""
    status = sub.add_parser("status", help="print the cluster view of a running lbhealth")
    add_url(status)
    status.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    add_format(status)
    status.set_defaults(func=cmd_status)
