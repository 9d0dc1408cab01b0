"""The HTML status page (``GET /``) and the HTML cluster view (``GET /cluster``).

One self-contained document: inline CSS, an inline favicon, no external assets
(the page must work on an isolated operations network and may not leak
requests), refreshed by ``<meta http-equiv=refresh>``. Every value that comes
from the inventory or a backend (names, reasons quoting error pages) is escaped.
Layout is a fluid grid with ``clamp()`` sizes, readable on a phone and on a
wall screen alike; below 40em the tiers table stacks, so nothing scrolls
sideways at phone width. Nodes that need attention come first (DOWN, MAINT,
DRAIN, then UP). One small inline script keeps the details a reader opened or
closed as they were across the refresh (in ``sessionStorage``); without it the
page works the same, with details opened for nodes not UP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

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
h3,td{overflow-wrap:anywhere}
@media (max-width:40em){
#tiers tr:first-child{display:none}
#tiers tr{display:block;border-bottom:1px solid var(--line);padding:.3em 0}
#tiers td{display:inline-block;border:0;padding:.1em .3em}
#tiers td:last-child{display:block}
}
"""

#: Cards of nodes needing attention first: not serving, in maintenance, draining, then UP.
ORDER = {"DOWN": 0, "MAINT": 1, "DRAIN": 2, "UP": 3}
_COLOURS = {"UP": "#1a7f37", "DEGRADED": "#9a6700", "DOWN": "#cf222e"}

#: Keeps opened (and closed) details as the reader left them across the refresh.
_KEEP_DETAILS = (
    "<script>(function(){var k='lbhealth-details',s={};"
    "try{s=JSON.parse(sessionStorage.getItem(k)||'{}')}catch(e){}"
    "document.querySelectorAll('details[id]').forEach(function(d){"
    "if(d.id in s)d.open=s[d.id];"
    "d.addEventListener('toggle',function(){s[d.id]=d.open;"
    "try{sessionStorage.setItem(k,JSON.stringify(s))}catch(e){}})})})()</script>"
)


def favicon_href(status: str | None) -> str:
    """An inline SVG icon, coloured by the cluster's state (grey when there is none)."""
    colour = _COLOURS.get(status or "", "#57606a")
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>"
        f"<circle cx='8' cy='8' r='7' fill='{colour}'/></svg>"
    )
    return "data:image/svg+xml," + quote(svg)


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status)}</span>'


def _document(title: str, status: str, body: str, now: float) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f'<meta http-equiv=refresh content="{REFRESH_SECONDS}">'
        f'<link rel=icon href="{favicon_href(status)}">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"{body}<p class=meta>Generated {escape(utc(now))}; refreshes every"
        f" {REFRESH_SECONDS}s.</p>{_KEEP_DETAILS}</body></html>\n"
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
    status = str(view["status"])
    return _document(f"lbhealth cluster: {status}", status, cluster_section(view), now)


def _history(node: str, changes: Sequence[Change]) -> str:
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
    return (
        f'<details id="changes-{escape(node)}"{opened}><summary>Changes ({len(changes)})'
        f"</summary><ul>{items}</ul></details>"
    )


def _node_card(
    node: Mapping[str, Any], served: tuple[str, str] | None, changes: Sequence[Change]
) -> str:
    """A node's card: the state monitors are served (DRAIN, MAINT override UP), its checks."""
    checks = "".join(
        f"<tr><td>{escape(c['name'])}</td><td>{_badge(c['status'])}</td>"
        f"<td class=reason>{escape(c['reason'])}<br><small>{escape(c['kind'])}"
        f" {escape(c['target'])}, {c['latency_ms']} ms</small></td></tr>"
        for c in node["checks"]
    )
    since = f"since {escape(utc(changes[-1].at))}" if changes else ""
    status, why = served or (node["status"], node["reason"])
    verdict = f" &middot; verdict {escape(node['status'])}" if served else ""
    reason = f"<p class=reason>{escape(why)}</p>" if why else ""
    return (
        f'<div class=card id="node-{escape(node["node"])}"><h3>{escape(node["node"])}'
        f" {_badge(status)}</h3><div class=meta>{escape(node['role'] or 'no role')}"
        f"{verdict} &middot; {since}</div>{reason}<table>{checks}</table>"
        f"{_history(node['node'], changes)}</div>"
    )


def status_page(
    view: Mapping[str, Any],
    nodes: Iterable[Mapping[str, Any]],
    served: Mapping[str, tuple[str, str]],
    history: Mapping[str, Sequence[Change]],
    now: float,
) -> str:
    """The whole status page: cluster view, then one card per node, problems first.

    ``served`` holds the nodes whose served state differs from their verdict
    (DRAIN, MAINT) with its reason; the order is otherwise the inventory's.
    """

    def shown(node: Mapping[str, Any]) -> int:
        status = served[node["node"]][0] if node["node"] in served else node["status"]
        return ORDER.get(status, 0)

    cards = "".join(
        _node_card(n, served.get(n["node"]), history.get(n["node"], ()))
        for n in sorted(nodes, key=shown)
    )
    body = (
        f"<h1>lbhealth</h1>{cluster_section(view)}"
        f"<h2>Nodes</h2><div class=grid id=nodes>{cards}</div>"
    )
    status = str(view["status"])
    return _document(f"lbhealth: cluster {status}", status, body, now)
