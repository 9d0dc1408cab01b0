"""The cluster view as a terminal table, for ``GET /cluster`` and ``lbhealth status``.

Both read the view's JSON (the CLI gets it from a running service), so one
renderer serves both and they can never disagree. Colour is optional: ANSI
codes only when the caller knows the output is a terminal that wants them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

_COLOURS = {"UP": "32", "DEGRADED": "33", "DRAIN": "33", "DOWN": "31", "MAINT": "31"}


def paint(word: str, colour: bool, width: int = 0) -> str:
    """``word`` padded to ``width``, in its status colour when ``colour`` is on."""
    padded = word.ljust(width)
    code = _COLOURS.get(word)
    if not colour or code is None:
        return padded
    return f"\x1b[1;{code}m{word}\x1b[0m" + padded[len(word) :]


def utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def cluster_table(view: Mapping[str, Any], colour: bool = False) -> str:
    """One line per node, grouped by tier and role, then the impact of what is down."""
    status = str(view["status"])
    summary = str(view["summary"]).removeprefix(f"{status}:").strip()
    lines = [f"CLUSTER {paint(status, colour)}: {summary}", ""]
    rows: list[tuple[str, str, str, str, str, str, str]] = []
    for tier in view["tiers"]:
        for pool in tier["roles"]:
            count = f"{pool['up']}/{pool['total']}"
            for i, node in enumerate(pool["nodes"]):
                first = i == 0
                rows.append(
                    (
                        str(tier["tier"]) if first else "",
                        pool["role"] if first else "",
                        pool["status"] if first else "",
                        count if first else "",
                        node["node"],
                        node["status"],
                        node["reason"],
                    )
                )
    for node in view["unassigned"]:
        rows.append(("-", "(no role)", "", "", node["node"], node["status"], node["reason"]))
    header = ("TIER", "ROLE", "STATE", "UP", "NODE", "VERDICT", "REASON")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(6)]
    for row in [header, *rows]:
        cells = [
            paint(cell, colour and row is not header, w)
            for cell, w in zip(row[:6], widths, strict=True)
        ]
        lines.append(("  ".join([*cells, row[6]])).rstrip())
    impacts = [p for tier in view["tiers"] for p in tier["roles"] if p["impact"]]
    if impacts:
        lines += ["", "IMPACT"]
        lines += [f"  {p['role']} ({p['summary']}): {p['impact']}" for p in impacts]
    return "\n".join(lines) + "\n"
