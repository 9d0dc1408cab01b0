"""A page read for its text only (``read_page(..., rows=False)``) reads as it does with rows.

The iis, jboss, jsp and http kinds read a page without its rows, which lets
the reader take runs of plain table rows in bulk (``plain_row_lines``). Their
verdicts rest on everything but the rows, so that must be identical to the
full reading on every page we have: the recorded answers, the benchmarks'
pages and pathological bodies, pages at the reading limits, and random tag soups.
"""

from __future__ import annotations

import random
import re

import pytest

from bench.interpret import BODIES
from bench.pages import LARGE, SMALL
from lbhealth.interpret import Answer
from lbhealth.interpret.text.html import MAX_ROWS, MAX_TAGS, Page, read_page
from tests._cases import Case, all_cases


def _seen(page: Page) -> tuple[object, ...]:
    """Everything a page offers but its rows."""
    return (
        page.source,
        page.text,
        page.title,
        page.comments,
        page.cut_off,
        page.overflow,
    )


def _assert_same(answer: Answer) -> None:
    full, text_only = read_page(answer), read_page(answer, rows=False)
    assert _seen(text_only) == _seen(full)
    assert text_only.rows == ()


def _html(body: str | bytes, truncated: bool = False) -> Answer:
    raw = body.encode() if isinstance(body, str) else body
    return Answer(200, [("Content-Type", "text/html; charset=utf-8")], raw, truncated)


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.name)
def test_recorded_answers(case: Case) -> None:
    _assert_same(Answer(case.status, case.headers, case.body))


@pytest.mark.parametrize("name", sorted(BODIES))
def test_pathological_bodies(name: str) -> None:
    _assert_same(_html(BODIES[name]))


@pytest.mark.parametrize("body", [SMALL, LARGE], ids=["small", "large"])
def test_benchmark_pages(body: bytes) -> None:
    page = read_page(_html(body), rows=False)
    assert page.overflow is (body is LARGE)  # the large page does reach the tag limit
    _assert_same(_html(body))


ROW = "<tr><td>EAAS</td><td>Remote Object is Alive</td></tr>\n"


@pytest.mark.parametrize("before", range(MAX_TAGS - 40, MAX_TAGS + 1, 3))
def test_at_the_tag_limit(before: int) -> None:
    _assert_same(_html("<b>" * before + "<table>" + ROW * 20 + "</table>tail"))


@pytest.mark.parametrize("lines", range(MAX_ROWS - 14, MAX_ROWS + 1))
@pytest.mark.parametrize("row", [ROW, "<tr><td> </td></tr>", "<tr></tr>\n"])
@pytest.mark.parametrize("pending", ["", "<tr><td>open row</td>and a line"])
def test_at_the_row_limit(lines: int, row: str, pending: str) -> None:
    """Also with a row and a line still open, which the first plain row ends (two more rows)."""
    body = "line<br>" * lines + "<table>" + pending + (row + ROW) * 8 + "</table>tail"
    _assert_same(_html(body))


#: Pieces of table markup, plain and not, in the spellings pages use.
_PIECES = (
    *("<table>", "</table>", "<TABLE border=1>", "<tr>", "<TR class='x'>", "</tr>", "</TR >"),
    *("<td>", "<TD colspan=2>", "<th>", "</td>", "</th>", "</td\n>", "<td\nwidth=3>", "</tr x>"),
    *("<br>", "<p>", "</p>", "<pre>", "</pre>", "<b>", "</b>", "<title>", "</title>", "<body>"),
    *("<!-- c -->", "<!--", "-->", "<script>x<td>y</script>", "<style>", "</style>", "<a", ">"),
    *("<tr/>", "<tra>", "<td-x>", "<trx>", "<", "&amp;", "&lt;", "&", "&#9;", "<?x?>", "<!x>"),
    *(" ", "  ", "\n", "\r\n", "\t", "\xa0", "\u2028", "\x1c", "\x85", "\x00", "\u3000"),
    *("Alive", "a b", "x>y", "EAAS", "Exception", "\u0130", "caf\u00e9", "error", "-->x"),
)
_PLAIN_ROWS = (
    "<tr><td>a</td><td>b c</td></tr>\n",
    "<TR><TH> Name </TH>\n<th>State</th></TR>",
    "<tr class=r>\n  <td>\xa0x\u2028y\x1c</td>\t<td></td>\n</tr>\r\n",
    "<tr><td></td><td> </td></tr>",
    "<tr></tr>",
    "<tr><td>x > y</td></tr >  ",
    "<tr\n><td\n>q</td\n></tr\n>",
)


def _soup(rng: random.Random) -> str:
    """Random markup, with runs of plain rows (the bulk reading's input) among it."""
    parts: list[str] = []
    for _ in range(rng.randrange(1, 120)):
        if rng.random() < 0.35:
            parts.append("".join(rng.choices(_PLAIN_ROWS, k=rng.randrange(1, 30))))
        else:
            parts.append(rng.choice(_PIECES))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(400))
def test_random_tag_soup(seed: int) -> None:
    rng = random.Random(seed)
    body = _soup(rng)
    _assert_same(_html(body, truncated=rng.random() < 0.2))


@pytest.mark.parametrize("seed", range(12))
def test_random_tag_soup_past_the_limits(seed: int) -> None:
    rng = random.Random(1000 + seed)
    lead = rng.choice(["<b>" * rng.randrange(8000, MAX_TAGS), "l<br>" * rng.randrange(900, 990)])
    body = lead + "".join(_soup(rng) for _ in range(40))
    _assert_same(_html(body))


#: What a browser-less reader can say of markup past the limits: each tag is a space, a tag
#: ending at its ``>`` or, unclosed, before the next ``<``.
_TAG = re.compile(r"<[/!?A-Za-z][^<>]*>?")


@pytest.mark.parametrize("seed", range(60))
def test_past_the_limits_every_tag_is_a_space(seed: int) -> None:
    """Cells side by side (``</td><td>``, the bulk of a report, read by a faster pass)
    included, after unclosed tags too."""
    rng = random.Random(2000 + seed)
    cells = ("</td><td>", "x</td><td>y", "<a</td><td>", '<td class="a"</td><td>', "</TD><TD>")
    tail = "".join(rng.choices((*_PIECES, *cells), k=400))
    page = read_page(_html("<b>" * MAX_TAGS + tail), rows=False)
    assert page.overflow
    spilled = _TAG.sub(" ", tail.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))
    assert page.text.endswith(spilled)


def test_past_the_limits_an_unclosed_cell_hides_no_exception() -> None:
    row = '<tr><td class="a"</td><td>java.lang.NullPointerException: boom</td></tr>\n'
    page = read_page(_html("<b>x</b>" * MAX_TAGS + row), rows=False)
    assert page.overflow and "java.lang.NullPointerException: boom" in page.text
