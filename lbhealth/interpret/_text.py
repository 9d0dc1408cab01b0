"""Reading backend pages: bytes to text, HTML to lines and table rows, common markers.

Backends in an EIM/WIM cluster answer with anything from IIS 6 error pages to
hand-written debug JSPs, in UTF-8 or cp1252 whatever the header claims, with
unclosed tags, entities, ``<br>``-separated lines or tables, and sometimes cut
off mid-row. Everything here is shared by the interpreters so that each kind
only decides what the page *means*.

Every function is total: any bytes give some text and some rows, never an
exception. The HTML reader is a small regex tokenizer rather than
:mod:`html.parser` because it must read a 1 MiB body in a few tens of
milliseconds, and every pattern is written so that a failed match stops at the
next ``<`` or line end: no input makes it quadratic.
"""

from __future__ import annotations

import codecs
import html
import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lbhealth.interpret._types import Answer, Rules
from lbhealth.verdict import MAX_REASON, Outcome

# --------------------------------------------------------------------------- decoding

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]{1,40})", re.I)
_META_CHARSET = re.compile(rb"<meta[^<>]{0,500}?charset\s*=\s*[\"']?\s*([\w.:-]{1,40})", re.I)
#: Labels browsers read as windows-1252 (WHATWG Encoding): servers that say
#: latin-1 or ASCII routinely send cp1252 quotes (0x93/0x94).
_AS_CP1252 = frozenset({"latin_1", "iso8859_1", "ascii", "cp1252"})


def _codec(label: str | None, *, from_meta: bool) -> str | None:
    """Python codec for a charset label, or None when unknown or unusable."""
    if not label:
        return None
    try:
        name = codecs.lookup(label).name.replace("-", "_")
    except LookupError:
        return None
    if name in _AS_CP1252:
        return "cp1252"
    if from_meta and name.startswith("utf_16"):
        # A meta tag that could be read as ASCII cannot be UTF-16 (WHATWG).
        return "utf-8"
    return name


def decode(body: bytes, content_type: str | None) -> str:
    """Decode a body: BOM, else header charset, else meta charset, else UTF-8, else cp1252.

    A declared charset that fails strictly is treated as a lie (common with
    "UTF-8" pages holding cp1252 bytes) and the UTF-8/cp1252 guess takes over;
    the last step replaces undecodable bytes, so this never raises.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, "replace")
    header = _HEADER_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(body[:4096])
    declared = _codec(header.group(1) if header else None, from_meta=False) or _codec(
        meta.group(1).decode("ascii", "replace") if meta else None, from_meta=True
    )
    for encoding in (declared or "utf-8", "utf-8"):
        try:
            return body.decode(encoding)
        except (UnicodeError, LookupError, ValueError):
            pass
    return body.decode("cp1252", "replace")


# --------------------------------------------------------------------------- HTML reading


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


@dataclass(frozen=True, slots=True)
class Page:
    """A decoded answer, read as a browser would show it.

    ``source`` is the decoded body (what ``expect``/``reject`` match), ``text``
    the visible text with one line per block, ``<br>`` or source line and table
    cells separated by tabs. ``cut_off`` says the listing's container (an open
    ``<table>`` or ``<pre>``, else ``<body>``/``<html>``) was never closed, or
    the prober cut the body; ``overflow`` that the reader stopped structuring
    at :data:`MAX_TAGS`/:data:`MAX_ROWS`. Either way rows may be missing.
    """

    source: str
    text: str
    title: str
    rows: tuple[Row, ...]
    cut_off: bool = False
    overflow: bool = False


_MARKUP = re.compile(r"<(?:(!--)|[!?][^<>]*>?|(/?)([A-Za-z][\w:-]*)[^<>]*>?)")
_ANY_TAG = re.compile(r"<[/!?A-Za-z][^<>]*>?")
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


class _Reader:
    """Accumulates text lines and table rows while the tokenizer walks the markup."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.rows: list[Row] = []
        self.line: list[str] = []
        self.title: list[str] | None = None
        self.title_text = ""
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
        return self.tags >= MAX_TAGS or len(self.rows) >= MAX_ROWS

    def text(self, chunk: str) -> None:
        if self.spill:
            self.spill.append(chunk)
            return
        if "&" in chunk and self.unescape_budget > 0:
            budget, self.unescape_budget = self.unescape_budget, self.unescape_budget - len(chunk)
            chunk = html.unescape(chunk[:budget]) + chunk[budget:]
        if self.title is not None:
            self.title.append(chunk[:300])
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
            self.rows.append(Row((line,), 0))

    def end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            raw = "".join(self.cell).split("\n")
            self.row.append("\n".join(t for t in (" ".join(p.split()) for p in raw) if t))
        self.cell = None

    def end_row(self) -> None:
        self.end_cell()
        if self.row and any(self.row):
            table = self.tables[-1] if self.tables else 0
            self.rows.append(Row(tuple(self.row), table or -1, self.row_header))
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
                self.title_text = self.title_text or " ".join("".join(self.title).split())
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

    def cut_off(self) -> bool:
        """The innermost listing container used by the page was never closed."""
        for name in _CONTAINERS:
            if name in self.opened:
                return self.depth[name] > 0
        return False


def read_page(answer: Answer) -> Page:
    """Decode and read an answer's body; never raises."""
    source = decode(answer.body, answer.header("Content-Type"))
    reader = _Reader()
    text = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
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
        if match.group(1):  # comment: skip to its end, or to the end of an unclosed one
            close = text.find("-->", pos)
            pos = end if close < 0 else close + 3
            continue
        name = match.group(3)
        if name is None:
            continue
        name = name.lower()
        closing = bool(match.group(2))
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
        lines = [*lines, _ANY_TAG.sub(" ", "".join(reader.spill))]
    title = reader.title_text or " ".join("".join(reader.title or ()).split())
    return Page(
        source=source,
        text="\n".join(lines),
        title=title[:300],
        rows=tuple(reader.rows),
        cut_off=answer.truncated or reader.cut_off(),
        overflow=overflow,
    )


# --------------------------------------------------------------------------- small helpers


def shorten(text: str, width: int = 80) -> str:
    """One line of at most ``width`` characters; an empty string when width is 0.

    A nested RMI exception repeats the cause ("...; nested exception is: ..."),
    so the first sentence is kept and the rest dropped before measuring.
    """
    if width <= 0:
        return ""
    one_line = " ".join(text.split("; nested exception is", 1)[0].split())
    if len(one_line) <= width:
        return one_line
    return one_line[: max(width - 3, 1)].rstrip() + "..."


def fit(pieces: Callable[[int], Iterable[str]], separator: str = "; ") -> str:
    """Join failure pieces, shrinking their quoted values until the reason fits.

    A reason must name every failing process within :data:`MAX_REASON`; the
    quoted states are what gets shortened, never the names.
    """
    joined = ""
    for width in (100, 60, 32, 16, 0):
        joined = separator.join(pieces(width))
        if len(joined) <= MAX_REASON:
            break
    return joined


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


# --------------------------------------------------------------------------- error pages

_ERROR_TITLE = re.compile(
    r"""
    .{0,200}?error\s+report\b.{0,100}      # Tomcat / JBoss Web <= 7, EAP 6 "JBWEB000064"
  | http\s+status\s+\d{3}\b.{0,200}          # Tomcat, any version
  | error(?:\s+\d{3}\b.{0,200})?             # Undertow "Error", Jetty "Error 500 ..."
  | [45]\d\d(?:\.\d+)?\b\s*(?:-\s*)?[a-z].{0,200}  # "500 - Internal server error."
  | iis\s+[\d.]+\s+detailed\s+error.{0,200}
  | (?:http\s+)?error\s+\d{3}.{0,200}
  | runtime\s+error | server\s+error | internal\s+server\s+error | bad\s+request.{0,100}
  | service\s+(?:temporarily\s+)?unavailable | bad\s+gateway | gateway\s+time-?out
  | not\s+found | forbidden | access\s+denied | unauthori[sz]ed
  | the\s+page\s+cannot\s+be\s+(?:displayed|found).{0,50}
  | the\s+resource\s+cannot\s+be\s+found\.?
  | (?:compilation|parser|configuration)\s+error
  | jbweb\d+.{0,200}
    """,
    re.I | re.X | re.S,
)
#: Headline phrases of server error pages, matched on lower-cased text. Every
#: pattern starts with a literal, so scanning a 1 MiB page stays a fast search.
_ERROR_PHRASES = tuple(
    re.compile(pattern)
    for pattern in (
        r"-\s*error report\b",  # Tomcat/JBoss Web report heading
        r"type\s+(?:exception|status)\s+report\b",  # Tomcat report body
        r"http status\s+[45]\d\d\b",  # Tomcat <h1>
        r"error processing request",  # Undertow servlet error
        r"server error in\s+'[^'\n]{0,200}'\s+application\b",  # ASP.NET yellow screen
        r"http error\s+[45]\d\d\b",  # IIS detailed error, HTTP.sys
        r"microsoft vbscript\s+(?:runtime|compilation)\s+error\b",  # classic ASP
        r"active server pages\s+error\b",
        # Jasper: "An error occurred at line: [12] in the jsp file: [/x.jsp]" (compile),
        # "An exception occurred processing [/x.jsp] at line [7]" / "JSP page /x.jsp at line 7"
        r"an error occurred at line:?\s*\[?\d+\]?\s+in the (?:jsp|generated java) file",
        r"an exception occurred processing\s+(?:jsp page\s+)?\[?/",
    )
)


def error_page(page: Page) -> str | None:
    """Name the server error page this is (Tomcat, JBoss Web, Undertow, IIS, ASP.NET), if any.

    Such pages are served with 200 too (custom error pages, ``customErrors``),
    so the status alone never proves a page is healthy. Markers are titles
    and headline phrases only, never the bare word "error", which appears in
    form labels and CSS class names of perfectly healthy pages.
    """
    if page.title and _ERROR_TITLE.fullmatch(page.title):
        return summary(page)
    low = page.text.lower()
    # lower() keeps positions except for a few exotic letters; then quote the lower-cased line.
    text = page.text if len(low) == len(page.text) else low
    for pattern in _ERROR_PHRASES:
        match = pattern.search(low)
        if match:
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            line = text[line_start : line_end if line_end >= 0 else len(text)]
            return shorten(line.replace("\t", " "), 100)
    return None


# --------------------------------------------------------------------------- Java exceptions

_JAVA_CHARS = string.ascii_letters + string.digits + "_$."
#: Java scanning looks for the literal tail ("Exception", ".java:12)") and then
#: checks the token before it: a literal search stays fast on any input, where
#: a pattern starting with a character class would crawl over 1 MiB.
_EXCEPTION_TAIL = re.compile(r"(?:Exception|Error)(?![\w$])")
_QUALIFIED = re.compile(r"(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*")
_BARE = re.compile(
    r"(?:Jasper|NullPointer|ClassCast|IllegalState|IllegalArgument|ArrayIndexOutOfBounds"
    r"|IndexOutOfBounds|Servlet|SQL|OutOfMemory|StackOverflow|NoClassDefFound|ClassNotFound"
    r"|ConcurrentModification|NumberFormat|EJB|Naming|NameNotFound|Remote|Connect)"
    r"(?:Exception|Error)"
)
_FRAME_TAIL = re.compile(r"\((?:[\w$.-]{1,200}\.java:\d{1,7}|Native Method|Unknown Source)\)")
_FRAME_HEAD = re.compile(r"[ \t]*(?:at[ \t]+)?[\w$]+(?:\.[\w$<>]+)+")
_MAX_CANDIDATES = 500


def exception_at(text: str) -> tuple[int, str] | None:
    """Start and name of the first Java exception class in the text.

    A package-qualified class ending in Exception/Error
    ("java.rmi.ConnectException", "Foo$BarError"), or a well-known bare one
    ("JasperException").
    """
    for count, tail in enumerate(_EXCEPTION_TAIL.finditer(text)):
        if count >= _MAX_CANDIDATES:
            break
        before = text[max(tail.start() - 200, 0) : tail.start()]
        token = before[len(before.rstrip(_JAVA_CHARS)) :].lstrip(".")
        name = token + tail.group(0)
        if _QUALIFIED.fullmatch(token) or _BARE.fullmatch(name):
            return tail.start() - len(token), name
    return None


def find_exception(text: str) -> str | None:
    """The first Java exception the text carries, with a short message, or a stack frame."""
    found = exception_at(text)
    if found:
        start, name = found
        line_end = text.find("\n", start)
        rest = text[start + len(name) : line_end if line_end >= 0 else len(text)]
        message = rest[1:].strip() if rest.startswith(":") else ""
        return shorten(f"{name}: {message}" if message else name, 120)
    for count, tail in enumerate(_FRAME_TAIL.finditer(text)):
        if count >= _MAX_CANDIDATES:
            break
        line_start = text.rfind("\n", max(tail.start() - 300, 0), tail.start()) + 1
        head = text[line_start : tail.start()]
        if _FRAME_HEAD.fullmatch(head):
            return "stack trace " + shorten(head.strip() + tail.group(0), 100)
    return None


# --------------------------------------------------------------------------- listings


@dataclass(frozen=True, slots=True)
class Entry:
    """A named item of a listing page (an RMI process, an ICM link) with its state text."""

    name: str
    state: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Listing:
    """How one listing page names its items and states; kind-specific, parsing shared.

    ``state_score`` rates a cell: 2 = certainly a state ("Remote Object is
    Alive", "Connected"), 1 = looks like one ("java.rmi.ConnectException ..."),
    0 = no. ``state_in_line`` gives where the state starts in a plain line
    ("EAAS : Remote Object is Alive"), or -1. ``name_header``/``state_header``
    match column headings.
    """

    state_score: Callable[[str], int]
    state_in_line: Callable[[str], int]
    name_header: re.Pattern[str]
    state_header: re.Pattern[str] = re.compile(r"\b(?:status|state|result|condition)\b", re.I)
    max_name_words: int = 6


_DESCRIPTION_HEADER = re.compile(r"\bdesc", re.I)
_NOT_A_NAME_HEADER = re.compile(r"\b(?:host|port|ip|url|jndi|bind|address|#|no\.?)\b", re.I)
_NOT_A_NAME = re.compile(
    r"[\W\d_]*|\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?|[\w-]+(?:\.[\w-]+)+(?::\d+)?|\w+://\S*"
)
#: Longer lines are prose or dumps, not "Name : state" lines.
_MAX_LINE = 500
_NOT_A_STATE = re.compile(r"[\d\s.,:/%-]+")
_NAME_JUNK = (
    " \t\"'`?\u00a0\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb\ufffd*\u2022\u00b7:=|>,;-\u2013\u2014"
)
_NAME_TAIL = re.compile(r"(?:\s+(?:is|was|link|connection|status|state|object))+\s*$", re.I)
_NUMBERING = re.compile(r"^\s*\d{1,3}[.)]\s+")
_GENERIC_LABEL = re.compile(r"(?:\w+\s+)?(?:status|state|result)", re.I)
_KEY_VALUE = re.compile(
    r"(?:(?:process|service|component|link|object|connection|peripheral)(?:\s*name)?|name)"
    r"\s*[:=]\s*(\S.{0,80})",
    re.I,
)


def clean_name(text: str) -> str:
    """A process or link name without quotes, bullets, numbering and trailing "is"/"link"."""
    name = _NUMBERING.sub("", " ".join(text[:300].split())).strip(_NAME_JUNK)
    return _NAME_TAIL.sub("", name).strip(_NAME_JUNK)


def _line_entries(
    lines: Iterable[str], spec: Listing, pending: list[str], bare: list[str] | None = None
) -> list[Entry]:
    """Entries from plain lines: "Name : state", "Name - state", "Name state", key/value pairs.

    ``pending`` carries a name announced by a "Process: EAAS" line to a
    following "Status: ..." line; ``bare`` carries a line that is only a name
    ("<dt>EAAS</dt>") to the very next line when that line is only a state
    ("<dd>Remote Object is Alive</dd>").
    """
    found: list[Entry] = []
    previous = bare if bare is not None else []
    for line in lines:
        if len(line) > _MAX_LINE:
            previous.clear()
            continue
        start = spec.state_in_line(line)
        if start > 0:
            name = clean_name(line[:start])
            if _GENERIC_LABEL.fullmatch(name) and pending:
                name = pending[0]
            if name and len(name.split()) <= spec.max_name_words:
                found.append(Entry(name, line[start:].strip()))
                pending.clear()
                previous.clear()
                continue
        if start == 0 and (pending or previous):
            found.append(Entry((pending or previous)[0], line.strip()))
            pending.clear()
            previous.clear()
            continue
        previous.clear()
        key_value = _KEY_VALUE.fullmatch(line.strip())
        if key_value and not _GENERIC_LABEL.match(line.strip()):
            pending[:] = [clean_name(key_value.group(1))]
        elif start < 0:
            name = clean_name(line)
            if (
                name
                and len(name.split()) <= spec.max_name_words
                and not _NOT_A_NAME.fullmatch(name)
                and not _GENERIC_LABEL.fullmatch(name)
            ):
                previous.append(name)
    return found


def _header_columns(cells: Sequence[str], spec: Listing) -> tuple[int, int, int] | None:
    """(name, state, description) column indexes of a heading row, -1 when absent."""
    cells = [c[:100] for c in cells]
    state = next((i for i, c in enumerate(cells) if spec.state_header.search(c)), -1)
    description = next(
        (i for i, c in enumerate(cells) if i != state and _DESCRIPTION_HEADER.search(c)), -1
    )
    name = next(
        (
            i
            for i, c in enumerate(cells)
            if i not in (state, description)
            and spec.name_header.search(c)
            and not _NOT_A_NAME_HEADER.search(c)
        ),
        -1,
    )
    if state < 0 and name < 0:
        return None
    return name, state, description


def _pick_name(cells: Sequence[str], skip: int, preferred: int) -> str:
    if 0 <= preferred < len(cells) and preferred != skip:
        name = clean_name(cells[preferred])
        if name:
            return name
    for i, cell in enumerate(cells):
        name = clean_name(cell)
        if i != skip and name and not _NOT_A_NAME.fullmatch(name):
            return name
    return ""


def _state_columns(page: Page, score: Callable[[str], int]) -> dict[int, int]:
    """Per table, the column where most rows hold an unmistakable state."""
    votes: dict[int, dict[int, int]] = {}
    for row in page.rows:
        if row.table != 0:
            for i, cell in enumerate(row.cells):
                if score(cell) == 2:
                    table = votes.setdefault(row.table, {})
                    table[i] = table.get(i, 0) + 1
                    break
    return {t: max(v, key=v.__getitem__) for t, v in votes.items()}


def _blank_state(
    row: Row,
    headings: dict[int, tuple[int, int, int]],
    voted: dict[int, int],
    score: Callable[[str], int],
) -> Entry | None:
    """An item whose state cell is empty: a named row of a listing table, nothing in its
    state column (known from the heading or the other rows). An empty state proves
    nothing alive, so it is an entry with an empty state, never a skipped row."""
    cells = row.cells
    if row.table <= 0 or row.header or len(cells) < 2:
        return None
    name_col, state_col, _ = headings.get(row.table, (-1, -1, -1))
    if not 0 <= state_col < len(cells):
        state_col = voted.get(row.table, -1)
    if not 0 <= state_col < len(cells) or cells[state_col]:
        return None
    if any(score(cell) for cell in cells):
        return None
    name = _pick_name(cells, state_col, name_col)
    if not name or _NOT_A_NAME.fullmatch(name):
        return None
    return Entry(name, "")


def read_listing(page: Page, spec: Listing) -> list[Entry]:
    """Items and states from tables (any column order), ``<pre>``/``<br>`` lines or plain text.

    In a table row the state cell is found by content first (so columns may
    come in any order or carry extra host/port/bind-name cells), then by the
    table's heading, then by the column where the table's other rows show a
    state; the name is the heading's name column or the first cell that is not
    a number, address or URL. Rows that are not items (headings, layout,
    totals) are skipped; a one-cell row is read as plain lines.
    """
    entries: list[Entry] = []
    pending: list[str] = []
    bare: list[str] = []
    headings: dict[int, tuple[int, int, int]] = {}
    scores: dict[str, int] = {}

    def score(cell: str) -> int:
        if cell not in scores:
            scores[cell] = spec.state_score(cell) if len(cell) < 2000 else 0
        return scores[cell]

    voted = _state_columns(page, score)
    for row in page.rows:
        cells = row.cells
        filled = [c for c in cells if c]
        if row.table == 0 or len(filled) < 2:
            blank = _blank_state(row, headings, voted, score)
            if blank is not None:
                entries.append(blank)
                bare.clear()
                continue
            entries.extend(_line_entries("\n".join(filled).split("\n"), spec, pending, bare))
            continue
        ranks = [score(c) for c in cells]
        best = max(ranks)
        if (row.header and best < 2) or (best == 0 and row.table not in headings):
            heading = _header_columns(cells, spec)
            if heading is not None:
                headings[row.table] = heading
                continue
        name_col, state_col, desc_col = headings.get(row.table, (-1, -1, -1))
        headed = 0 <= state_col < len(cells) and (ranks[state_col] > 0 or best < 2)
        if not headed:
            state_col = ranks.index(best) if best else voted.get(row.table, -1)
        if not 0 <= state_col < len(cells) or _NOT_A_STATE.fullmatch(cells[state_col]):
            entries.extend(_line_entries(filled, spec, pending, bare))
            continue
        inline = _line_entries([cells[state_col]], spec, [])
        if inline and best < 2 and not 0 <= name_col < len(cells):
            entries.extend(inline)
            continue
        name = _pick_name(cells, state_col, name_col)
        if name:
            description = cells[desc_col] if 0 <= desc_col < len(cells) else ""
            entries.append(Entry(name, cells[state_col].replace("\n", " "), description))
    return entries


def row_name_at_cut(page: Page, entries: Sequence[Entry]) -> str:
    """The first cell of the last table row when that row yielded no entry.

    A page cut inside a row ("<td>Scheduler</td><td>Remote Obj") names the
    process whose state went missing; the reason should name it too.
    """
    last = next((r for r in reversed(page.rows) if r.table != 0), None)
    if last is None or not last.cells:
        return ""
    name = clean_name(last.cells[0])
    if any(e.name == name for e in entries[-1:]):
        return ""
    return name


_QUOTES = re.compile("[\"'`?\u00a0\u00ab\u00bb\u2018-\u201f\u2032\u2033\ufffd]+")


def normalise_state(text: str) -> str:
    """A state as comparable words: no quotes (straight, curly, mangled to ``?``), lower case.

    Pages written in cp1252 and served as UTF-8 (or the reverse) turn the
    JSP's curly quotes into ``?`` or U+FFFD; all of them are just noise here.
    """
    words = _QUOTES.sub(" ", text[:500]).casefold().split()
    return " ".join(words).strip(".:;,!-")


@dataclass(frozen=True, slots=True)
class ListingRules:
    """How a listing kind words its verdicts; the judging itself is :func:`judge_listing`.

    ``healthy`` says True (alive, connected), False (dead) or None (listed but
    not applicable, ignored). ``dead`` phrases one failure from the name and
    the state already shortened to fit (empty when there is no room).
    """

    spec: Listing
    key: str
    healthy: Callable[[str], bool | None]
    dead: Callable[[str, str], str]
    missing: str
    nothing: str
    up: Callable[[int, int], str]


def _listed(required: str, names: Sequence[str]) -> str | None:
    """The listed name a required one refers to: equal, or a whole word of it, any case."""
    wanted = required.casefold()
    for name in names:
        if name.casefold() == wanted:
            return name
    pattern = re.compile(r"(?<!\w)" + re.escape(required) + r"(?!\w)", re.I)
    return next((name for name in names if pattern.search(name)), None)


def judge_listing(page: Page, rules: Rules, kind: ListingRules) -> Outcome:
    """UP only when items are listed, all healthy, all required present, and none can hide.

    A cut-off page (the prober's cap, or a listing container never closed)
    is DOWN even when every row shown is healthy: the rows that did not
    arrive are exactly the ones nobody has seen, and a load balancer must not
    route on a half-read list.
    """
    entries = read_listing(page, kind.spec)
    states = [kind.healthy(e.state) for e in entries]
    items = [
        {"name": e.name, "state": shorten(e.state, 200), "alive": ok}
        | ({"description": e.description} if e.description else {})
        for e, ok in zip(entries, states, strict=True)
    ]
    names = [e.name for e, ok in zip(entries, states, strict=True) if ok]
    failed = [e for e, ok in zip(entries, states, strict=True) if ok is False]
    missing: list[str] = []
    for required in rules.require:
        if _listed(required, names) is None and _listed(required, [e.name for e in failed]) is None:
            listed = _listed(required, [e.name for e in entries])
            if listed is None:
                missing.append(kind.missing.format(required))
            else:
                failed.append(Entry(listed, "NA"))
    if page.overflow:
        missing.append(f"page too long, read only its first {len(page.rows)} rows")
    elif page.cut_off:
        at = row_name_at_cut(page, entries)
        missing.append(
            f"page cut off at '{at}'" if at else f"page cut off after {len(entries)} items"
        )
    details = {kind.key: items}
    if not entries:
        hint = (
            error_page(page) or find_exception(page.text) or (page.title and f"page '{page.title}'")
        )
        return Outcome.down(kind.nothing + (f" ({shorten(hint, 100)})" if hint else ""), **details)
    if failed or missing:

        def pieces(width: int) -> list[str]:
            return [kind.dead(e.name, shorten(e.state, width)) for e in failed] + missing

        return Outcome.down(fit(pieces), **details)
    if not names:
        return Outcome.down(f"only NA rows listed ({len(entries)})", **details)
    return Outcome.up(kind.up(len(names), len(entries) - len(names)), **details)
