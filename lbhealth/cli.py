"""The ``lbhealth`` command: serve, check-config, probe, demo, admin, export.

Exit codes: 0 success (or UP), 1 DOWN (``probe``), 2 bad usage or invalid config.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import uvicorn

from lbhealth import __version__, status_cli
from lbhealth.cli_lb import add_lb_commands
from lbhealth.config import (
    HTTP_KINDS,
    ConfigError,
    Inventory,
    Settings,
    load_inventory,
    parse_inventory,
)
from lbhealth.logs import setup_logging
from lbhealth.presets import explain
from lbhealth.serving import BoundedHttpToolsProtocol

if TYPE_CHECKING:
    from starlette.types import ASGIApp

EXIT_OK, EXIT_DOWN, EXIT_USAGE = 0, 1, 2


def _uvicorn_config(
    app: ASGIApp | str, host: str, port: int, log_level: str, settings: Settings | None = None
) -> uvicorn.Config:
    # httptools, not h11: h11 rejects HTTP/1.1 requests without a Host header,
    # which some load-balancer monitors send (lbhealth.serving caps its heads).
    # Client-side limits (README, "Client-side limits"): idle keep-alive sockets
    # are closed after keep_alive_timeout; past max_connections uvicorn answers
    # 503 rather than exhausting file descriptors.
    if settings is None:
        from lbhealth.app import LBHealth

        assert isinstance(app, LBHealth), "only an LBHealth app brings its own settings"
        settings = app.engine.inventory.settings
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=BoundedHttpToolsProtocol,
        loop="auto",
        lifespan="on",
        log_config=None,
        log_level=log_level,
        access_log=settings.access_log,
        server_header=False,
        timeout_keep_alive=math.ceil(settings.keep_alive_timeout),
        limit_concurrency=settings.max_connections,
    )


def _config_path(explicit: str | None) -> str:
    path = explicit or os.environ.get("LBHEALTH_CONFIG")
    if not path:
        raise ConfigError(["no inventory given: pass --config FILE or set LBHEALTH_CONFIG"])
    return path


def _apply_overrides(inventory: Inventory, host: str | None, port: int | None) -> Inventory:
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if not updates:
        return inventory
    settings = inventory.settings.model_copy(update=updates)
    return Inventory(settings=settings, nodes=inventory.nodes, source=inventory.source)


def cmd_serve(args: argparse.Namespace) -> int:
    from lbhealth.app import create_app

    path = _config_path(args.config)
    inventory = _apply_overrides(load_inventory(path), args.host, args.port)
    settings = inventory.settings
    setup_logging(settings.log_level, access_log=settings.access_log)
    if args.workers > 1:
        from lbhealth.workers import serve_workers

        serve_workers(path, settings, args.workers)
        return EXIT_OK
    config = _uvicorn_config(
        create_app(inventory, config_path=path), settings.host, settings.port, settings.log_level
    )
    uvicorn.Server(config).run()
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace) -> int:
    inventory = load_inventory(_config_path(args.file))
    checks = sum(len(n.checks) for n in inventory.nodes.values())
    roles = sorted({n.role for n in inventory.nodes.values() if n.role})
    print(
        f"OK: {inventory.source}: {len(inventory.nodes)} nodes, {checks} checks"
        + (f", roles: {', '.join(roles)}" if roles else "")
    )
    if args.explain:
        print(explain(inventory), end="")
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
    from lbhealth.engine import Engine

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


def cmd_demo(args: argparse.Namespace) -> int:
    from lbhealth.app import create_app
    from lbhealth.demo import start_cluster

    setup_logging("warning")

    async def run() -> None:
        cluster = await start_cluster()
        try:
            inventory = parse_inventory(cluster.inventory, "demo")
            app = create_app(inventory)
            server = uvicorn.Server(_uvicorn_config(app, args.host, args.port, "warning"))
            base = f"http://{args.host}:{args.port}"
            nodes = " ".join(cluster.inventory["nodes"])
            print(
                f"lbhealth {__version__} demo: a simulated EIM/WIM cluster on loopback.\n"
                f"Nodes: {nodes}\n"
                "web2 (IIS app pool stopped), app2 (JSP stack trace) and svc1 (EAAS dead)"
                " are DOWN on purpose.\nTry:\n"
                f"  curl -i {base}/health/app1\n"
                f"  curl -i {base}/health/web2\n"
                f"  curl -s '{base}/health/svc1?format=json'\n"
                f"  curl -s {base}/nodes\n"
                f"  curl -s {base}/cluster\n"
                f"  curl -i {base}/health/role/application\n"
                f"  open {base}/   (the status page)\n"
                f"  open {base}/docs\n"
                "Ctrl-C stops it.",
                flush=True,
            )
            await server.serve()
        finally:
            await cluster.stop()

    asyncio.run(run())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lbhealth", description="Health verdicts for load balancers: 200 UP / 503 DOWN."
    )
    parser.add_argument("--version", action="version", version=f"lbhealth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--config", help="inventory file (default: $LBHEALTH_CONFIG)")
    serve.add_argument("--host", help="listen address (default: settings.host)")
    serve.add_argument("--port", type=int, help="listen port (default: settings.port)")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes; each probes on its own"
    )
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check-config", help="validate an inventory file")
    check.add_argument("file", nargs="?", help="inventory file (default: $LBHEALTH_CONFIG)")
    check.add_argument("--explain", action="store_true", help="print every node's checks")
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

    demo = sub.add_parser("demo", help="run lbhealth over a simulated cluster on loopback")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.set_defaults(func=cmd_demo)

    status_cli.add_parser(sub)
    add_lb_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
