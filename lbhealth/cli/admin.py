"""``lbhealth admin``: drain, maintain or enable nodes of a running service.

It talks to the service's admin API (so the change is logged, persisted and
seen by every monitor at once); the token comes from ``--token-file`` or
``LBHEALTH_ADMIN_TOKEN`` and is never printed. What the service answers (a
state file's ``by``, a reason) is cleaned before it reaches the terminal.
Exit codes: 0 done, 1 the service refused, 2 bad usage, 3 the service could not be reached.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import shtab

from lbhealth.cli.common import EXIT_DOWN, EXIT_OK, EXIT_UNREACHABLE, add_url
from lbhealth.config import ConfigError
from lbhealth.text.clean import clean_data, clean_reason

_CHANGES = {"drain": "drain", "maint": "maint", "enable": "enabled"}


def _token(args: argparse.Namespace) -> str:
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            message = f"--token-file: cannot read {args.token_file}: {exc.strerror}"
            raise ConfigError([message]) from None
    else:
        token = os.environ.get("LBHEALTH_ADMIN_TOKEN", "").strip()
    if not token:
        raise ConfigError(["no admin token: pass --token-file FILE or set LBHEALTH_ADMIN_TOKEN"])
    return token


def operator_name() -> str:
    """The operator's login for the audit log; a container user may have no passwd entry."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _request(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {_token(args)}", "X-LBHealth-User": operator_name()}
    url = args.url.rstrip("/") + path
    try:
        response = httpx.request(method, url, json=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise AdminFailed(f"cannot reach lbhealth at {args.url}: {exc}", EXIT_UNREACHABLE) from None
    try:
        answer = clean_data(response.json())
    except ValueError:
        answer = None
    if response.status_code >= 400:
        detail = answer.get("detail") if isinstance(answer, dict) else None
        shown = clean_reason(str(detail or response.text))
        raise AdminFailed(f"lbhealth refused ({response.status_code}): {shown}")
    if not isinstance(answer, dict):
        raise AdminFailed(f"{url} answered no JSON object (HTTP {response.status_code})")
    return answer


class AdminFailed(Exception):
    """The service refused the request (exit 1) or could not be reached (exit 3)."""

    def __init__(self, message: str, code: int = EXIT_DOWN) -> None:
        super().__init__(message)
        self.code = code


def _show(entry: dict[str, Any]) -> str:
    why = f" ({entry['reason']})" if entry.get("reason") else ""
    who = f" by {entry['by']}" if entry.get("by") else ""
    return f"{entry['state']}{why} [{entry['source']}{who}]"


def cmd_admin(args: argparse.Namespace) -> int:
    try:
        if args.action == "list":
            nodes = _request(args, "GET", "/admin/nodes")["nodes"]
            for node, entry in nodes.items():
                print(f"{node}: {_show(entry)}")
            return EXIT_OK
        path = f"/admin/nodes/{args.node}/state"
        if args.action == "reset":
            entry = _request(args, "DELETE", path)
        else:
            body = {"state": _CHANGES[args.action], "reason": args.reason}
            entry = _request(args, "PUT", path, body)
    except AdminFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    print(f"{args.node}: {_show(entry)}")
    return EXIT_OK


def register(sub: Any) -> None:
    """Register ``admin`` on the main parser's subcommands."""
    admin = sub.add_parser("admin", help="drain, maintain or enable nodes of a running service")
    add_url(admin)
    admin.add_argument("--token-file", help="file holding the admin token").complete = shtab.FILE
    actions = admin.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every node's admin state")
    for action, text in (
        ("drain", "take no new sessions (HAProxy NOLB, F5 disabled)"),
        ("maint", "out of service"),
        ("enable", "back in service"),
        ("reset", "forget the API's change; the inventory's admin_state applies"),
    ):
        parser = actions.add_parser(action, help=text)
        parser.add_argument("node")
        if action != "reset":
            parser.add_argument("--reason", default="", help="why (logged and shown)")
    admin.set_defaults(func=cmd_admin)
