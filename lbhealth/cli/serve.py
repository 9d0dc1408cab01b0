"""``lbhealth serve`` and ``lbhealth demo``: run the service (the demo: on a simulated cluster)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import sys
from typing import Any

import shtab
import uvicorn

from lbhealth import __version__
from lbhealth.admin.reload import startup_values
from lbhealth.app import create_app
from lbhealth.app.logs import setup_logging
from lbhealth.app.server import uvicorn_config
from lbhealth.cli.common import EXIT_OK, config_path
from lbhealth.config import ConfigError, Inventory, load_inventory, parse_inventory
from lbhealth.demo.cluster import FIRST_PORT


def apply_overrides(inventory: Inventory, host: str | None, port: int | None) -> Inventory:
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if not updates:
        return inventory
    settings = inventory.settings.model_copy(update=updates)
    return Inventory(settings=settings, nodes=inventory.nodes, source=inventory.source)


#: systemd socket activation (sd_listen_fds(3)): the first passed descriptor.
SD_LISTEN_FDS_START = 3


def activated_sockets(environ: dict[str, str]) -> list[socket.socket] | None:
    """The listening sockets systemd passed (socket activation), or None to bind our own.

    With a ``.socket`` unit the listening socket outlives the service: during a
    restart a monitor's check waits in the socket's queue and the new process
    answers it, where a closed port would have failed it. Only sockets meant for
    this process (``LISTEN_PID``) are taken.
    """
    if environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    count = int(environ.get("LISTEN_FDS", "0") or 0)
    if count < 1:
        return None
    return [socket.socket(fileno=SD_LISTEN_FDS_START + i) for i in range(count)]


def cmd_serve(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    loaded = load_inventory(path)
    inventory = apply_overrides(loaded, args.host, args.port)
    settings = inventory.settings
    setup_logging(settings.log_level, access_log=settings.access_log)
    if args.workers > 1:
        from lbhealth.app.workers import serve_workers

        serve_workers(path, settings, args.workers)
        return EXIT_OK
    app = create_app(inventory, config_path=path, at_start=startup_values(loaded.settings))
    config = uvicorn_config(app, settings.host, settings.port, settings.log_level, settings)
    uvicorn.Server(config).run(sockets=activated_sockets(dict(os.environ)))
    return EXIT_OK


def command_name() -> str:
    """How the user can run this lbhealth again (``./dev demo`` runs ``.venv/bin/lbhealth``)."""
    argv0 = sys.argv[0]
    if os.path.basename(argv0) != "lbhealth":
        return "python -m lbhealth"
    if shutil.which("lbhealth") == os.path.abspath(argv0):
        return "lbhealth"
    relative = os.path.relpath(argv0)
    return relative if not relative.startswith("..") else argv0


def demo_guide(inventory: dict[str, Any], base: str, admin: bool) -> str:
    """What the demo prints: its nodes and their backends, and what to try."""
    lbhealth = command_name()
    lines = [
        f"lbhealth {__version__} demo: a simulated EIM/WIM cluster on loopback.",
        "Nodes and the backends their checks probe:",
    ]
    for name, node in inventory["nodes"].items():
        for check in node["checks"]:
            target = check.get("url") or check.get("address")
            lines.append(f"  {name:<6} {check['kind']:<16} {target}")
    app1 = inventory["nodes"]["app1"]["checks"][0]["url"]
    lines += [
        "web2 (IIS app pool stopped), app2 (JSP stack trace) and svc1 (EAAS dead)"
        " are DOWN on purpose.",
        "Try:",
        f"  curl -i {base}/health/app1",
        f"  curl -i {base}/health/web2",
        f"  curl -s '{base}/health/svc1?format=json'",
        f"  curl -s {base}/nodes",
        f"  curl -s {base}/cluster",
        f"  curl -i {base}/health/role/application",
        f"  {lbhealth} status --url {base}",
        f"  {lbhealth} probe jboss {app1}",
        f"  open {base}/   (the status page)",
        f"  open {base}/docs",
    ]
    if admin:
        lines += [
            "Admin API on (the token is LBHEALTH_ADMIN_TOKEN); with it exported:",
            f"  {lbhealth} admin --url {base} drain app1 --reason trying",
            f"  {lbhealth} admin --url {base} enable app1",
        ]
    else:
        lines.append(
            "Admin API off: start the demo with LBHEALTH_ADMIN_TOKEN=<any secret> ./dev demo"
            " to try drain and maintenance."
        )
    lines.append("Ctrl-C stops it.")
    return "\n".join(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    from lbhealth.demo.cluster import start_cluster

    setup_logging("warning")

    async def run() -> None:
        try:
            cluster = await start_cluster(args.backends_from)
        except OSError as exc:
            raise ConfigError(
                [f"--backends-from {args.backends_from}: {exc.strerror}; pick other ports, or 0"]
            ) from None
        try:
            # LBHEALTH_* variables apply, as to any inventory: LBHEALTH_ADMIN_TOKEN turns
            # the admin API on.
            inventory = parse_inventory(cluster.inventory, "demo")
            app = create_app(inventory)
            config = uvicorn_config(app, args.host, args.port, "warning", inventory.settings)
            server = uvicorn.Server(config)
            base = f"http://{args.host}:{args.port}"
            admin = inventory.settings.admin_token is not None
            print(demo_guide(cluster.inventory, base, admin), flush=True)
            await server.serve()
        finally:
            await cluster.stop()

    asyncio.run(run())
    return EXIT_OK


def register(sub: Any) -> None:
    """Register ``serve`` and ``demo`` on the main parser's subcommands."""
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument(
        "--config", help="inventory file (default: $LBHEALTH_CONFIG)"
    ).complete = shtab.FILE
    serve.add_argument("--host", help="listen address (default: settings.host)")
    serve.add_argument("--port", type=int, help="listen port (default: settings.port)")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes; each probes on its own"
    )
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="run lbhealth over a simulated cluster on loopback")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument(
        "--backends-from",
        type=int,
        default=FIRST_PORT,
        metavar="PORT",
        help="simulated backends on consecutive ports from PORT (default %(default)s; 0: any)",
    )
    demo.set_defaults(func=cmd_demo)
