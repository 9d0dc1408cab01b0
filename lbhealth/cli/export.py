"""``lbhealth export``: load-balancer configuration (HAProxy, F5 tmsh) for an inventory."""

from __future__ import annotations

import argparse
from typing import Any

import shtab

from lbhealth.cli.common import EXIT_OK, config_path
from lbhealth.config import load_inventory
from lbhealth.lb.export import f5_commands, haproxy_config


def cmd_export(args: argparse.Namespace) -> int:
    inventory = load_inventory(config_path(args.config))
    settings = inventory.settings
    url = args.lbhealth_url or f"http://{settings.host}:{settings.port}"
    render = haproxy_config if args.target == "haproxy" else f5_commands
    print(render(inventory, url), end="")
    return EXIT_OK


def register(sub: Any) -> None:
    """Register ``export`` on the main parser's subcommands."""
    export = sub.add_parser("export", help="print load-balancer config for the inventory")
    export.add_argument("target", choices=["haproxy", "f5"])
    export.add_argument(
        "--config", help="inventory file (default: $LBHEALTH_CONFIG)"
    ).complete = shtab.FILE
    export.add_argument(
        "--lbhealth-url", help="where the load balancer reaches lbhealth (default: settings)"
    )
    export.set_defaults(func=cmd_export)
