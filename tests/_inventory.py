"""The one inventory builder of the test suite: nodes, checks and settings as plain data.

Tests describe what they serve in the inventory's own words (the YAML's
structure, as dicts), so that a test reads like the configuration it runs;
``write`` puts one in a file for the tests that reload it or run a subprocess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lbhealth.demo.simserver import SimServer

#: Settings under which a verdict change is served within a fraction of a second. Their
#: verdicts stay fresh for 30 s (default: 2.6 s): on a loaded machine a probe process can
#: be starved for seconds, and tests using these check changes, not staleness.
QUICK: dict[str, Any] = {"cache_ttl": "200ms", "interval": "200ms", "timeout": 2, "max_age": "30s"}


def check(kind: str, target: str, **options: Any) -> dict[str, Any]:
    """One check: ``url`` for HTTP kinds, ``address`` (host:port) for ``tcp``."""
    return {"kind": kind, "address" if kind == "tcp" else "url": target, **options}


def node(kind: str, target: str, role: str | None = None, **options: Any) -> dict[str, Any]:
    """A node with a single check; ``options`` are the check's."""
    spec: dict[str, Any] = {"checks": [check(kind, target, **options)]}
    if role is not None:
        spec["role"] = role
    return spec


def jboss_node(server: SimServer, **extra: Any) -> dict[str, Any]:
    """An application node checked by its JBoss welcome page at ``/``; ``extra``: node options."""
    return {**node("jboss", server.url("/"), "application"), **extra}


def inventory(nodes: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """An inventory of these nodes (name -> node) with these settings."""
    return {"settings": settings, "nodes": nodes}


def same_kind(kind: str, targets: dict[str, str], **settings: Any) -> dict[str, Any]:
    """An inventory of single-check nodes of one kind: name -> target."""
    return inventory({name: node(kind, target) for name, target in targets.items()}, **settings)


def write(path: Path, data: dict[str, Any]) -> Path:
    """``data`` as a YAML inventory file at ``path``."""
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path
