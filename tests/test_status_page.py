"""The status page in a real Chromium: phone-width layout, problem nodes first, kept details.

The simulated EIM/WIM cluster of ``tests/_cluster.py`` with one node
DOWN, one in maintenance and one drained; the browser is driven over the
DevTools protocol (``tests/_chromium.py``) so layout is measured, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lbhealth.demo.cluster import JSP_PATH, JSP_STACK_TRACE
from tests._admin import TOKEN, set_state
from tests._chromium import Page, chromium_page
from tests._cluster import HOSTILE_JSP, SimCluster
from tests._poll import wait_until
from tests._servers import Running, require_tool

Serve = Callable[[dict[str, Any]], Running]

#: Every badge inside the viewport and inside its own box (cell, card, list item), and
#: nothing that scrolls sideways: not the page, not any element.
LAYOUT = """(() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const b of document.querySelectorAll('.badge')) {
    const r = b.getBoundingClientRect();
    const box = b.closest('td,li,h3,.banner,.card').getBoundingClientRect();
    if (r.left < -0.5 || r.right > width + 0.5 || r.right > box.right + 0.5)
      out.push(b.textContent + ' at ' + Math.round(r.left) + '-' + Math.round(r.right));
  }
  const scrolling = [...document.querySelectorAll('*')]
    .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
    .map(e => e.tagName + '#' + e.id);
  return {width, viewport: innerWidth, page: document.documentElement.scrollWidth,
          clipped: out, scrolling, badges: document.querySelectorAll('.badge').length};
})()"""


@pytest.fixture
def troubled(cluster: SimCluster, lbhealth_server: Serve) -> Running:
    """app2 DOWN (a hostile stack trace), msg1 in maintenance, web2 drained."""
    cluster.servers["app2"].pages[JSP_PATH] = HOSTILE_JSP
    lb = lbhealth_server(cluster.inventory(admin_token=TOKEN))
    assert set_state(lb.url, "msg1", "maint", "JBoss patch").status_code == 200
    assert set_state(lb.url, "web2", "drain", "IIS restart").status_code == 200
    return lb


def card_order(html: str) -> list[str]:
    return re.findall(r'class=card id="node-([^"]+)"', html)


def test_problem_nodes_come_first(troubled: Running) -> None:
    html = httpx.get(f"{troubled.url}/").text
    order = card_order(html)
    # DOWN, MAINT, DRAIN, then UP; inventory order within each.
    assert order[:3] == ["app2", "msg1", "web2"]
    assert sorted(order[3:]) == ["app1", "db1", "file1", "svc1", "web1"]
    web2 = html[html.index('id="node-web2"') :]
    assert '<span class="badge DRAIN">DRAIN</span>' in web2[:200] and "IIS restart" in web2


def test_no_clipped_badges_or_sideways_scrolling_at_phone_width(
    troubled: Running, tmp_path: Path
) -> None:
    with chromium_page(require_tool("chromium"), tmp_path) as page:
        for width in (390, 1280):
            page.open(f"{troubled.url}/", width)
            layout = page.evaluate(LAYOUT)
            assert layout["viewport"] == width, layout
            assert layout["page"] <= layout["width"], layout
            assert layout["clipped"] == [] and layout["scrolling"] == [], layout
            assert layout["badges"] >= 20, layout
        assert all(r.startswith((troubled.url, "data:")) for r in page.requests), page.requests


def details(page: Page, node: str) -> bool:
    return bool(page.evaluate(f"document.getElementById('changes-{node}').open"))


def test_opened_details_stay_open_across_the_refresh(troubled: Running, tmp_path: Path) -> None:
    wait_until(lambda: httpx.get(f"{troubled.url}/").text, lambda t: "changes-app2" in t)
    with chromium_page(require_tool("chromium"), tmp_path) as page:
        page.open(f"{troubled.url}/", 1280)
        assert (details(page, "web1"), details(page, "app2")) == (False, True)  # UP, DOWN
        page.evaluate("document.querySelector('#changes-web1 summary').click()")
        page.evaluate("document.querySelector('#changes-app2 summary').click()")
        page.evaluate("window.beforeRefresh = true")
        # The page's own <meta http-equiv=refresh> reloads it.
        page.wait_for("window.beforeRefresh === undefined && document.readyState === 'complete'")
        assert (details(page, "web1"), details(page, "app2")) == (True, False)
        # The hostile JSP's markup is text: the page's one script is its own.
        assert page.evaluate("document.scripts.length") == 1
        assert "sessionStorage" in page.evaluate("document.scripts[0].textContent")


def test_favicon_is_inline_and_coloured_by_the_cluster_state(
    cluster: SimCluster, lbhealth_server: Serve
) -> None:
    lb = lbhealth_server(cluster.inventory(interval="200ms"))  # the breakage shows at once
    up = re.search(r'<link rel=icon href="([^"]+)">', httpx.get(f"{lb.url}/").text)
    cluster.servers["app1"].pages[JSP_PATH] = JSP_STACK_TRACE
    cluster.servers["app2"].pages[JSP_PATH] = JSP_STACK_TRACE
    down = wait_until(
        lambda: httpx.get(f"{lb.url}/cluster?format=html"), lambda r: r.status_code == 503
    )
    icon = re.search(r'<link rel=icon href="([^"]+)">', down.text)
    assert up and icon and up[1].startswith("data:image/svg+xml,")
    assert "1a7f37" in up[1] and "cf222e" in icon[1]  # green UP, red DOWN
