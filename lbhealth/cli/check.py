"""``lbhealth check-config`` and ``lbhealth probe``: validate an inventory; probe a target once.

``check-config --format json`` is for CI jobs and editors: every error with its
inventory path, message and the line and column in the YAML file
(:mod:`lbhealth.config.positions`), exit 2 when there is any.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import shtab

from lbhealth.cli.common import EXIT_DOWN, EXIT_OK, EXIT_USAGE, FORMATS, config_path
from lbhealth.config import HTTP_KINDS, ConfigError, load_inventory, parse_inventory
from lbhealth.config.explain import explain
from lbhealth.config.positions import locate
from lbhealth.core.engine import Engine


def count(number: int, noun: str) -> str:
    """``1 node``, ``2 nodes``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def cmd_check_config(args: argparse.Namespace) -> int:
    path = config_path(args.file, "the file (lbhealth check-config FILE)")
    if args.format == "json":
        return _check_config_json(path)
    inventory = load_inventory(path)
    checks = sum(len(n.checks) for n in inventory.nodes.values())
    roles = sorted({n.role for n in inventory.nodes.values() if n.role})
    print(
        f"OK: {inventory.source}: {count(len(inventory.nodes), 'node')}, {count(checks, 'check')}"
        + (f", roles: {', '.join(roles)}" if roles else "")
    )
    if args.explain:
        print(explain(inventory), end="")
    return EXIT_OK


def _check_config_json(path: str) -> int:
    """One JSON document: the summary, or every error with its path, line and column."""
    try:
        inventory = load_inventory(path)
    except ConfigError as exc:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""  # the error itself says why it cannot be read
        errors = [e.to_json() for e in locate(text, exc.errors)]
        print(json.dumps({"ok": False, "source": path, "errors": errors}, indent=2))
        return EXIT_USAGE
    nodes = inventory.nodes.values()
    summary = {
        "ok": True,
        "source": inventory.source,
        "nodes": len(inventory.nodes),
        "checks": sum(len(n.checks) for n in nodes),
        "roles": sorted({n.role for n in nodes if n.role}),
    }
    print(json.dumps(summary, indent=2))
    return EXIT_OK


def _probe_spec(args: argparse.Namespace) -> dict[str, Any]:
    spec: dict[str, Any] = {"kind": args.kind}
    spec["address" if args.kind == "tcp" else "url"] = args.target
    headers = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise ConfigError([f"--header {header!r}: write it as 'Name: value'"])
        headers[name.strip()] = value.strip()
    options = {
        "timeout": args.timeout,
        "headers": headers or None,
        "expect": args.expect,
        "reject": args.reject,
        "expect_status": args.expect_status or None,
        "require": args.require or None,
        "ca_file": args.ca_file,
        "tls_verify": False if args.insecure else None,
        "follow_redirects": True if args.follow_redirects else None,
    }
    spec.update({k: v for k, v in options.items() if v is not None})
    return spec


def cmd_probe(args: argparse.Namespace) -> int:
    data = {
        "settings": {"max_body": args.max_body},
        "nodes": {"probe": {"checks": [_probe_spec(args)]}},
    }
    try:
        inventory = parse_inventory(data, "command line")
    except ConfigError as exc:
        raise ConfigError(
            [
                e.replace("nodes.probe.checks[0].", "--").replace("nodes.probe.checks[0]", "probe")
                for e in exc.errors
            ]
        ) from None
    engine = Engine(inventory)

    async def once() -> Any:
        try:
            return await engine.run(engine.checks["probe"][0])
        finally:
            await engine.aclose()

    result = asyncio.run(once())
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(
            f"{result.status.value}  {result.kind} {result.target}  "
            f"({result.latency * 1000:.1f} ms)"
        )
        if result.reason:
            print(f"  reason: {result.reason}")
        for key, value in result.details.items():
            print(f"  {key}: {json.dumps(value)}")
    return EXIT_OK if result.status.value == "UP" else EXIT_DOWN


def register(sub: Any) -> None:
    """Register ``check-config`` and ``probe`` on the main parser's subcommands."""
    check = sub.add_parser("check-config", help="validate an inventory file")
    check.add_argument(
        "file", nargs="?", help="inventory file (default: $LBHEALTH_CONFIG)"
    ).complete = shtab.FILE
    shown = check.add_mutually_exclusive_group()
    shown.add_argument("--explain", action="store_true", help="print every node's checks")
    shown.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="json: {ok, source, nodes, checks, roles} or {ok, source, errors: [{path,"
        " message, line, column}]} on stdout",
    )
    check.set_defaults(func=cmd_check_config)

    probe = sub.add_parser("probe", help="probe one target once and print the verdict")
    probe.add_argument("kind", choices=[*HTTP_KINDS, "tcp"])
    probe.add_argument("target", help="URL, or host:port for tcp")
    probe.add_argument("--timeout", default=3.0, help="seconds or '500ms' (default 3)")
    probe.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    probe.add_argument("--expect", help="regex the body must match")
    probe.add_argument("--reject", help="regex the body must not match")
    probe.add_argument(
        "--expect-status",
        action="append",
        default=[],
        help="accepted status: 200, 2xx or 200-399; repeatable",
    )
    probe.add_argument(
        "--require",
        action="append",
        default=[],
        help="process or link that must be alive; repeatable",
    )
    probe.add_argument("--ca-file", help="CA bundle to verify TLS with")
    probe.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    probe.add_argument("--follow-redirects", action="store_true")
    probe.add_argument("--max-body", default="1MiB", help="body cap (default 1MiB)")
    probe.add_argument("--json", action="store_true", help="print the result as JSON")
    probe.set_defaults(func=cmd_probe)
