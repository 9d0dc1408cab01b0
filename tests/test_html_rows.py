"""Plain table rows read in one match give exactly what the token-by-token reading gives.

``read_page`` reads a closed row of plain-text cells whole (for speed). An
attribute in a row's closing tag (``</tr x>``) changes nothing the reader or a
browser makes of it, but sends the row through the token-by-token reading, so
each page is read both ways here.
"""

from __future__ import annotations

import re

import pytest

from lbhealth.interpret import Answer
from lbhealth.interpret.text.html import MAX_ROWS, MAX_TAGS, Page, read_page

ROWS = [
    "<tr><td>EAAS</td><td>Remote Object is Alive</td></tr>\n",
    "<TR CLASS='x'>\n  <TH>Name</TH>\n  <th>State</th>\n</TR>\n",
    "<tr><th>Head</th><td>data</td></tr>",
    "<tr><td></td><td>  </td></tr>\n",
    "<tr></tr>",
    "<tr><td>two\nlines\n\n here</td><td>x\ty</td></tr>\r\n",
    "<tr><td colspan=2>wide\u00a0cell</td></tr>  \n\n",
    "<tr><td>a</td ><td>b</th></tr >",
]


def read(html: str) -> Page:
    return read_page(Answer(200, [("Content-Type", "text/html")], html.encode()))


def token_by_token(html: str) -> str:
    """The same page, each row's end written so that the row is read token by token."""
    return re.sub(r"</tr(\s*)>", r"</tr x\1>", html, flags=re.IGNORECASE)


def same(a: Page, b: Page) -> bool:
    return (a.text, a.title, a.rows, a.cut_off, a.overflow) == (
        b.text,
        b.title,
        b.rows,
        b.cut_off,
        b.overflow,
    )


@pytest.mark.parametrize("row", ROWS)
@pytest.mark.parametrize(
    "shell",
    [
        "<html><body>before<table>{rows}</table>after</body></html>",
        "<table><tr><td>open row{rows}",  # an unclosed row before, a cut-off table
        "text line\n{rows}trailing text",  # rows outside any table
        "<title>t</title><table>{rows}{rows}</table>",
    ],
)
def test_a_plain_row_reads_as_its_tokens(row: str, shell: str) -> None:
    html = shell.format(rows=row * 3)
    fast, slow = read(html), read(token_by_token(html))
    assert "</tr x" in token_by_token(html).lower() and same(fast, slow)
    assert fast.rows  # something was read


@pytest.mark.parametrize("before", [MAX_TAGS - 30, MAX_TAGS - 13, MAX_TAGS - 12, MAX_TAGS - 1])
def test_the_tag_limit_falls_where_it_does_token_by_token(before: int) -> None:
    html = "<b>" * before + "<table>" + ROWS[0] * 5 + "</table>tail"
    fast, slow = read(html), read(token_by_token(html))
    assert fast.overflow and same(fast, slow)


@pytest.mark.parametrize("lines", [MAX_ROWS - 5, MAX_ROWS - 3, MAX_ROWS - 2, MAX_ROWS - 1])
def test_the_row_limit_falls_where_it_does_token_by_token(lines: int) -> None:
    html = "line<br>" * lines + "<table>" + ROWS[0] * 5 + "</table>tail"
    fast, slow = read(html), read(token_by_token(html))
    assert fast.overflow and same(fast, slow)
