"""The HTML status page (``GET /``) and the HTML cluster view (``GET /cluster``).

One self-contained document: inline CSS, no scripts, no external assets (the
page must work on an isolated operations network and may not leak requests),
refreshed by ``<meta http-equiv=refresh>``. Every value that comes from the
inventory or a backend (names, reasons quoting error pages) is escaped.
Layout is a fluid grid with ``clamp()`` sizes, readable on a phone and on a
wall screen alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from lbhealth.cluster.table import utc
from lbhealth.core.history import Change

REFRESH_SECONDS = 5

_CSS = """
:root{color-scheme:light dark;--up:#1a7f37;--down:#cf222e;--deg:#9a6700;--line:#8884}
*{box-sizing:border-box}
body{font:clamp(14px,1.1vw + 8px,22px)/1.4 system-ui,sans-serif;margin:0;padding:1em}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.2em 0 .4em}
.meta{opacity:.75;font-size:.85em}
.badge{display:inline-block;padding:.05em .5em;border-radius:.3em;color:#fff;font-weight:700}
.UP{background:var(--up)}.DOWN,.MAINT{background:var(--down)}
.DEGRADED,.DRAIN{background:var(--deg)}
.banner{padding:.6em .8em;border-radius:.4em;color:#fff;font-weight:600}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.3em .5em;border-bottom:1px solid var(--line);vertical-align:top}
.grid{display:grid;gap:1em;grid-template-columns:repeat(auto-fill,minmax(min(100%,24em),1fr))}
.card{border:1px solid var(--line);border-radius:.5em;padding:.7em}
.card h3{margin:0 0 .3em;font-size:1.1em}
.reason{overflow-wrap:anywhere}
ul{margin:.2em 0;padding-left:1.2em}
.scroll{overflow-x:auto}.badge,.nowrap{white-space:nowrap}
"""


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status)}</span>'


def _document(title: str, body: str, now: float) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f'<meta http-equiv=refresh content="{REFRESH_SECONDS}">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"{body}<p class=meta>Generated {escape(utc(now))}; refreshes every"
        f" {REFRESH_SECONDS}s.</p></body></html>\n"
    )


def cluster_section(view: Mapping[str, Any]) -> str:
    """The roles in start order, the blocking tier and what users lose."""
    status = str(view["status"])
    rows = []
    for tier in view["tiers"]:
        for pool in tier["roles"]:
            nodes = " ".join(
                f"<span class=nowrap>{escape(n['node'])} {_badge(n['status'])}</span>"
                for n in pool["nodes"]
            )
            rows.append(
                f"<tr><td>{tier['tier']}</td><td>{escape(pool['role'])}</td>"
                f"<td>{_badge(pool['status'])} {pool['up']}/{pool['total']}"
                f" (min {pool['min_up']})</td><td>{nodes}</td></tr>"
            )
    impacts = "".join(
        f"<li><b>{escape(p['role'])}</b>: {escape(p['impact'])}</li>"
        for tier in view["tiers"]
        for p in tier["roles"]
        if p["impact"]
    )
    return (
        f'<div class="banner {escape(status)}" id=cluster-status>'
        f"Cluster {escape(str(view['summary']))}</div>"
        "<h2>Start order</h2><div class=scroll><table id=tiers>"
        f"<tr><th>Tier</th><th>Role</th><th>State</th><th>Nodes</th></tr>{''.join(rows)}</table></div>"
        + (f"<h2>User impact</h2><ul id=impact>{impacts}</ul>" if impacts else "")
    )


def cluster_page(view: Mapping[str, Any], now: float) -> str:
    return _document(f"lbhealth cluster: {view['status']}", cluster_section(view), now)


def _history(changes: Sequence[Change]) -> str:
    """The node's changes, newest first; opened while the node is DOWN."""
    if not changes:
        return ""
    items = "".join(
        f"<li>{escape(utc(c.at))} {_badge(c.status.value)}"
        + (f" <span class=reason>{escape(c.reason)}</span>" if c.reason else "")
        + "</li>"
        for c in reversed(changes)
    )
    opened = " open" if changes[-1].status.value != "UP" else ""
    return f"<details{opened}><summary>Changes ({len(changes)})</summary><ul>{items}</ul></details>"


def _node_card(node: Mapping[str, Any], changes: Sequence[Change]) -> str:
    checks = "".join(
        f"<tr><td>{escape(c['name'])}</td><td>{_badge(c['status'])}</td>"
        f"<td class=reason>{escape(c['reason'])}<br><small>{escape(c['kind'])}"
        f" {escape(c['target'])}, {c['latency_ms']} ms</small></td></tr>"
        for c in node["checks"]
    )
    since = f"since {escape(utc(changes[-1].at))}" if changes else ""
    reason = f"<p class=reason>{escape(node['reason'])}</p>" if node["reason"] else ""
    return (
        f'<div class=card id="node-{escape(node["node"])}"><h3>{escape(node["node"])}'
        f" {_badge(node['status'])}</h3><div class=meta>{escape(node['role'] or 'no role')}"
        f" &middot; {since}</div>{reason}<table>{checks}</table>{_history(changes)}</div>"
    )


def status_page(
    view: Mapping[str, Any],
    nodes: Iterable[Mapping[str, Any]],
    history: Mapping[str, Sequence[Change]],
    now: float,
) -> str:
    """The whole status page: cluster view, then one card per node."""
    cards = "".join(_node_card(n, history.get(n["node"], ())) for n in nodes)
    body = (
        f"<h1>lbhealth</h1>{cluster_section(view)}"
        f"<h2>Nodes</h2><div class=grid id=nodes>{cards}</div>"
    )
    return _document(f"lbhealth: cluster {view['status']}", body, now)
