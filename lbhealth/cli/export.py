"""``lbhealth export``: load-balancer configuration (HAProxy, F5 tmsh) for an inventory."""

from __future__ import annotations

import argparse
from typing import Any

import shtab

from lbhealth.cli.common import EXIT_OK, config_path
from lbhealth.config import ConfigError, load_inventory
from lbhealth.lb.export import DEFAULT_BIND, f5_commands, haproxy_config, parse_binds


def cmd_export(args: argparse.Namespace) -> int:
    if args.bind and args.target != "haproxy":
        raise ConfigError(["--bind: only `export haproxy` writes frontends"])
    binds = parse_binds(args.bind)
    inventory = load_inventory(config_path(args.config))
    settings = inventory.settings
    url = args.lbhealth_url or f"http://{settings.host}:{settings.port}"
    if args.target == "haproxy":
        print(haproxy_config(inventory, url, binds), end="")
    else:
        print(f5_commands(inventory, url), end="")
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
    export.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="[ROLE=]ADDRESS[:PORT]",
        help="haproxy: where frontends listen, for every role or one (repeatable; default"
        f" {DEFAULT_BIND}, the role's port), e.g. --bind web=10.0.0.10",
    )
    export.set_defaults(func=cmd_export)
