"""HTML to what a person sees: visible lines, table rows, the title.

Pages range from IIS 6 error pages to hand-written debug JSPs, with unclosed
tags, entities, ``<br>``-separated lines or tables, and sometimes cut off
mid-row. The reader is a small regex tokenizer rather than :mod:`html.parser`
because it must read a 1 MiB body in a few tens of milliseconds, and every
pattern is written so that a failed match stops at the next ``<`` or line end:
no input makes it quadratic. Every function is total: any text gives some
lines and rows, never an exception. A page read for its text only (every kind
but the listings) skips building rows, and takes runs of plain table rows in
bulk (:mod:`lbhealth.interpret.text.plain_rows`): same text, far less work.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from lbhealth.interpret.text.decode import decode
from lbhealth.interpret.text.plain_rows import plain_row_lines
from lbhealth.interpret.text.tags import strip_tags
from lbhealth.interpret.types import Answer
from lbhealth.text.clean import clean_reason, shorten


@dataclass(frozen=True, slots=True)
class Row:
    """One table row (``table`` > 0) or one line of text outside tables (``table`` == 0).

    Cell texts keep their internal line breaks (``<br>``, newlines) as ``\\n``
    so that a one-cell layout table holding a ``<br>`` listing can still be read
    line by line; ``header`` is set when every cell was a ``<th>``.
    """

    cells: tuple[str, ...]
    table: int
    header: bool = False


#: Reading limits. A real debug page has tens of rows and a JSP a few thousand
#: tags; past these the reader stops structuring (the rest is still searched as
#: text) and says so, which keeps a hostile 1 MiB body well under 100 ms.
MAX_TAGS = 10_000
MAX_ROWS = 1_000
_UNESCAPE_BUDGET = 128 * 1024
#: Longest title kept, and the raw title text read to make it (whitespace is
#: collapsed after reading, so the raw budget is larger; past it the title is
#: marked as cut, never silently shortened).
MAX_TITLE = 300
_TITLE_BUDGET = 4096
#: Comment text kept for :func:`lbhealth.interpret.text.markers.comment_failure`.
_COMMENT_BUDGET = 64 * 1024


@dataclass(frozen=True, slots=True)
class Page:
    """A decoded answer, read as a browser would show it.

    ``source`` is the decoded body (what ``expect``/``reject`` match), ``text``
    the visible text with one line per block, ``<br>`` or source line and table
    cells separated by tabs. ``cut_off`` says the listing's container (an open
    ``<table>`` or ``<pre>``, else ``<body>``/``<html>``) was never closed, or
    the prober cut the body; ``overflow`` that the reader stopped structuring
    at :data:`MAX_TAGS`/:data:`MAX_ROWS`. Either way rows may be missing.

    ``comments`` holds the text of the HTML comments (the first
    ``_COMMENT_BUDGET`` characters), one per line: comments often hold
    commented-out markup, so they are never page text, but a JSP that catches
    an exception may print its stack trace into one.

    ``rows`` is empty when the page was read for its text only
    (``read_page(..., rows=False)``); everything else is the same either way.
    """

    source: str
    text: str
    title: str
    rows: tuple[Row, ...]
    cut_off: bool = False
    overflow: bool = False
    comments: str = ""


_MARKUP = re.compile(r"<(?:(!--)|[!?][^<>]*>?|(/?)([A-Za-z][\w:-]*)[^<>]*>?)")
_RAW_END = {
    "script": re.compile(r"</script[^<>]*>", re.I),
    "style": re.compile(r"</style[^<>]*>", re.I),
}
_BREAKS = frozenset(
    {
        *("br", "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "pre", "hr", "blockquote"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "form", "fieldset", "center", "body", "html"),
        *("head", "caption", "address", "section", "article", "header", "footer", "nav"),
        *("legend", "option", "select", "textarea", "main", "aside", "figure", "figcaption"),
        *("noscript", "frame", "iframe"),
    }
)
_CONTAINERS = ("table", "pre", "body", "html")
_NEWLINES = re.compile(r"\n\s+")
#: A closed table row of closed cells holding plain text (no markup, entity or
#: comment), as most rows of a large report are, with the whitespace after it.
#: Read in one match, it gives exactly what its dozen tokens would (whitespace
#: between its tags, and after it, is never visible) at a fraction of the cost.
_SIMPLE_ROW = re.compile(
    r"<tr(?![\w:-])[^<>]*>(?:\s*<t[dh](?![\w:-])[^<>]*>[^<&]*</t[dh]\s*>)*\s*</tr\s*>\s*", re.I
)
_SIMPLE_CELL = re.compile(r"<t[dh](?![\w:-])[^<>]*>([^<&]*)<", re.I)
_DATA_CELL = re.compile(r"<td", re.I)


def _cell_text(raw: str) -> str:
    """A cell's text: each line's whitespace collapsed, empty lines dropped."""
    if "\n" not in raw:
        return " ".join(raw.split())
    return "\n".join(t for t in (" ".join(p.split()) for p in raw.split("\n")) if t)


class _Reader:
    """Accumulates text lines and table rows while the tokenizer walks the markup."""

    def __init__(self, keep_rows: bool) -> None:
        self.lines: list[str] = []
        self.keep_rows = keep_rows
        self.rows: list[Row] = []
        self.row_count = 0
        self.line: list[str] = []
        self.title: list[str] | None = None
        self.title_room = _TITLE_BUDGET
        self.title_text = ""
        self.comments: list[str] = []
        self.comment_room = _COMMENT_BUDGET
        self.tables: list[int] = []
        self.table_count = 0
        self.row: list[str] | None = None
        self.row_header = True
        self.cell: list[str] | None = None
        self.depth = dict.fromkeys(_CONTAINERS, 0)
        self.opened: set[str] = set()
        self.tags = 0
        self.unescape_budget = _UNESCAPE_BUDGET
        self.spill: list[str] = []

    @property
    def full(self) -> bool:
        return self.tags >= MAX_TAGS or self.row_count >= MAX_ROWS

    def text(self, chunk: str) -> None:
        if self.spill:
            self.spill.append(chunk)
            return
        if "&" in chunk and self.unescape_budget > 0:
            budget, self.unescape_budget = self.unescape_budget, self.unescape_budget - len(chunk)
            chunk = html.unescape(chunk[:budget]) + chunk[budget:]
        if self.title is not None:
            self.title.append(chunk[: max(self.title_room, 0)])
            self.title_room -= len(chunk)
        if self.cell is not None:
            self.cell.append(chunk)
            return
        if "\n" in chunk:
            chunk = _NEWLINES.sub("\n", chunk)
        parts = chunk.split("\n", MAX_ROWS)
        self.line.append(parts[0])
        for i in range(1, len(parts)):
            self.flush_line()
            if self.full:
                self.spill.append("\n".join(parts[i:]))
                return
            self.line.append(parts[i])

    def flush_line(self) -> None:
        line = " ".join("".join(self.line).split())
        self.line.clear()
        if line:
            self.lines.append(line)
            self.add_row((line,), 0, False)

    def end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append(_cell_text("".join(self.cell)))
        self.cell = None

    def add_row(self, cells: tuple[str, ...], table: int, header: bool) -> None:
        self.row_count += 1
        if self.keep_rows:
            self.rows.append(Row(cells, table, header))

    def plain_rows(self, text: str, pos: int) -> int:
        """Text only: read the :data:`_SIMPLE_ROW` rows from ``pos`` on in one go, while
        even counting every row (and the two the first may flush) keeps clear of the row
        limit; :meth:`simple_rows` reads what follows one by one, up to the exact limits."""
        start, tags, most = pos, self.tags, self.row_count + 2
        while self.title is None and most + 2 < MAX_ROWS:
            match = _SIMPLE_ROW.match(text, pos)
            if match is None or (more := tags + text.count("<", pos, match.end())) >= MAX_TAGS:
                break
            tags, most, pos = more, most + 1, match.end()
        if pos > start:
            self.end_row()
            self.flush_line()
            lines = plain_row_lines(text[start:pos])
            self.tags = tags
            self.row_count += len(lines)
            self.lines.extend(lines)
        return pos

    def simple_rows(self, text: str, pos: int) -> int:
        """Read the :data:`_SIMPLE_ROW` rows from ``pos`` on; the position after them.

        Near a reading limit it reads nothing more, so that the limit falls
        where the token-by-token reading puts it.
        """
        start = pos
        if not self.keep_rows:
            pos = self.plain_rows(text, pos)
        table = (self.tables[-1] if self.tables else 0) or -1
        while (match := _SIMPLE_ROW.match(text, pos)) is not None:
            row = match.group()
            tags = row.count("<")
            if self.title is not None or self.tags + tags >= MAX_TAGS:
                break
            if self.row_count + 2 >= MAX_ROWS:
                break
            if pos == start:
                self.end_row()
                self.flush_line()
            self.tags += tags
            cells = [_cell_text(raw) for raw in _SIMPLE_CELL.findall(row)]
            if any(cells):
                self.add_row(tuple(cells), table, _DATA_CELL.search(row) is None)
                line = "\t".join(cells)
                self.lines.append(line.replace("\n", " ") if "\n" in line else line)
            pos = match.end()
        return pos

    def end_row(self) -> None:
        self.end_cell()
        if self.row and any(self.row):
            table = self.tables[-1] if self.tables else 0
            self.add_row(tuple(self.row), table or -1, self.row_header)
            self.lines.append("\t".join(c.replace("\n", " ") for c in self.row))
        self.row = None

    def start_row(self) -> None:
        self.end_row()
        self.flush_line()
        self.row = []
        self.row_header = True

    def tag(self, name: str, closing: bool) -> None:
        self.tags += 1
        if name in self.depth:
            self.depth[name] += -1 if closing else 1
            self.opened.add(name)
        if name == "title":
            if closing and self.title is not None:
                self.title_text = self.title_text or self.shown_title()
                self.title = None
            elif not closing:
                self.title = []
            self.tag("br", closing)
        elif name in ("td", "th"):
            self.end_cell()
            if not closing:
                if self.row is None:
                    self.start_row()
                self.cell = []
                self.row_header = self.row_header and name == "th"
        elif name == "tr":
            self.end_row() if closing else self.start_row()
        elif name == "table":
            self.end_row()
            self.flush_line()
            if closing:
                if self.tables:
                    self.tables.pop()
            else:
                self.table_count += 1
                self.tables.append(self.table_count)
        elif name in _BREAKS:
            if self.cell is not None:
                self.cell.append("\n")
            else:
                self.flush_line()

    def shown_title(self) -> str:
        """The title read so far as one line of at most :data:`MAX_TITLE`, a cut marked."""
        cut = "..." if self.title_room < 0 else ""
        return clean_reason("".join(self.title or ()) + cut, MAX_TITLE)

    def comment(self, text: str, start: int, stop: int) -> None:
        """Keep a comment's text, within the comment budget."""
        if self.comment_room > 0:
            kept = text[start : min(stop, start + self.comment_room)]
            self.comments.append(kept)
            self.comment_room -= len(kept)

    def cut_off(self) -> bool:
        """The innermost listing container used by the page was never closed."""
        for name in _CONTAINERS:
            if name in self.opened:
                return self.depth[name] > 0
        return False


def read_page(answer: Answer, *, rows: bool = True) -> Page:
    """Decode and read an answer's body; never raises. Without ``rows``, the page's
    table rows are not kept (its text is the same), which makes a large page cheaper."""
    source = decode(answer.body, answer.header("Content-Type"))
    reader = _Reader(rows)
    text = source
    if "\r" in text:  # a scan for one character costs far less than a replacing pass
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    pos, end = 0, len(text)
    while pos < end and not reader.spill:
        if reader.full:
            reader.spill.append(text[pos:])
            break
        match = _MARKUP.search(text, pos)
        if match is None:
            reader.text(text[pos:])
            break
        if match.start() > pos:
            reader.text(text[pos : match.start()])
        pos = match.end()
        if match.group(1):  # comment: not page text; to its end, or the end of an unclosed one
            close = text.find("-->", pos)
            reader.comment(text, pos, end if close < 0 else close)
            pos = end if close < 0 else close + 3
            continue
        name = match.group(3)
        if name is None:
            continue
        name = name.lower()
        closing = bool(match.group(2))
        if name == "tr" and not closing:
            after = reader.simple_rows(text, match.start())
            if after > match.start():
                pos = after
                continue
        if name in _RAW_END and not closing:
            raw_end = _RAW_END[name].search(text, pos)
            pos = end if raw_end is None else raw_end.end()
            continue
        reader.tag(name, closing)
    else:
        if reader.spill and pos < end:
            reader.spill.append(text[pos:])
    overflow = bool(reader.spill)
    if not overflow:
        reader.end_row()
        reader.flush_line()
    lines = reader.lines
    if overflow:
        lines = [*lines, strip_tags("".join(reader.spill))]
    return Page(
        source=source,
        text="\n".join(lines),
        title=reader.title_text or reader.shown_title(),
        rows=tuple(reader.rows),
        cut_off=answer.truncated or reader.cut_off(),
        overflow=overflow,
        comments="\n".join(reader.comments),
    )


def first_line(page: Page) -> str:
    """The first visible line that says more than the title, for summaries."""
    for line in page.text.split("\n", 20)[:20]:
        if line and line != page.title:
            return line
    return ""


def summary(page: Page) -> str:
    """What the page is, in a few words: its title, or its first line when untitled.

    Undertow's error page is titled just "Error"; the body line ("Internal
    Server Error") says which.
    """
    title = page.title
    if not title or title.lower() in ("error", "error report", "untitled"):
        line = first_line(page)
        title = f"{title}: {line}" if title and line else title or line
    return shorten(title, 100)
