"""Decoding and page reading shared by all interpreters."""

from __future__ import annotations

import pytest

from lbhealth.interpret.text.decode import decode
from lbhealth.interpret.text.html import read_page
from tests._cases import answer


@pytest.mark.parametrize(
    ("body", "content_type", "text"),
    [
        (b"caf\xc3\xa9", "text/html; charset=UTF-8", "caf\u00e9"),
        (b"caf\xe9", "text/html; charset=ISO-8859-1", "caf\u00e9"),
        (b"\x93q\x94", "text/html; charset=iso-8859-1", "\u201cq\u201d"),
        (b"\x93q\x94", "text/html; charset=UTF-8", "\u201cq\u201d"),
        (b"\x93q\x94", "text/html", "\u201cq\u201d"),
        (b"caf\xc3\xa9", None, "caf\u00e9"),
        (b'<meta charset="windows-1252">\x93', "text/html", '<meta charset="windows-1252">\u201c'),
        (b"<meta http-equiv=Content-Type content='text/html; charset=utf-8'>\xc3\xa9", None, None),
        (b"\xef\xbb\xbfhi", "text/html; charset=iso-8859-1", "hi"),
        (b"h\x00i\x00", "text/html; charset=utf-16-le", "hi"),
        (b"x\x81y", "text/html; charset=no-such-charset", "x\ufffdy"),
        (b"x", 'text/html; charset="rot13"', "x"),
        (b"", "text/html", ""),
    ],
)
def test_decode_never_fails_and_prefers_declared_then_utf8_then_cp1252(
    body: bytes, content_type: str | None, text: str | None
) -> None:
    decoded = decode(body, content_type)
    if text is not None:
        assert decoded == text
    else:
        assert decoded.endswith("\u00e9")


def test_page_keeps_title_and_lines() -> None:
    page = read_page(answer("<html><head><title> A &amp; B </title></head><p>one<br>two</p>"))
    assert page.title == "A & B"
    assert page.text.split("\n") == ["A & B", "one", "two"]


def test_table_rows_keep_cells_and_heading_flag() -> None:
    page = read_page(
        answer("<table><tr><th>N</th><th>S</th></tr><tr><td>a</td><td>b<br>c</td></tr></table>")
    )
    rows = [(r.cells, r.header) for r in page.rows]
    assert rows == [(("N", "S"), True), (("a", "b\nc"), False)]


def test_scripts_styles_and_comments_are_not_text() -> None:
    page = read_page(answer("<style>p{}</style><script>var x='<td>';</script><!-- c -->shown"))
    assert page.text == "shown"


@pytest.mark.parametrize(
    ("body", "cut"),
    [
        ("<html><body><table><tr><td>a</td></tr></table></body></html>", False),
        ("<html><body><table><tr><td>a</td></tr></table>", False),
        ("<html><body><table><tr><td>a</td></tr>", True),
        ("<pre>a : b\nc : d", True),
        ("<html><body>a<br>b", True),
        ("a : b\nc : d", False),
    ],
)
def test_cut_off_means_the_listing_container_never_closed(body: str, cut: bool) -> None:
    assert read_page(answer(body)).cut_off is cut


def test_huge_row_count_stops_structuring_but_keeps_text() -> None:
    body = "<table>" + "<tr><td>x</td><td>y</td></tr>" * 5000 + "</table>java.lang.Oops END"
    page = read_page(answer(body))
    assert page.overflow
    assert page.text.endswith("java.lang.Oops END")
