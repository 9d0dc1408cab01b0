"""Listing pages: named items with a state each (RMI processes, ICM links) and their verdict.

``listrmiobjects.jsp`` and ``ICMIntegratedConnections.jsp`` come in tables,
``<pre>`` blocks, ``<br>`` lines, ``<dl>`` lists and key-value text; the
reader finds the name and state of each item whatever the layout, and
:func:`judge_listing` is UP only when every item is healthy, every required
one is present, and no row can be hiding (a cut-off or overflowing page).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lbhealth.interpret.states import MAX_FIELD, shown_state
from lbhealth.interpret.text.html import Page, Row
from lbhealth.interpret.text.markers import error_page, find_exception
from lbhealth.interpret.types import Rules
from lbhealth.text.clean import MAX_REASON, clean_reason, shorten
from lbhealth.verdict import Outcome


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


#: Most items read from a page; every parsed field is bounded too (``MAX_FIELD``).
MAX_ITEMS = 1_000


def clean_name(text: str) -> str:
    """A process or link name without quotes, bullets, numbering and trailing "is"/"link"."""
    name = _NUMBERING.sub("", clean_reason(text, MAX_FIELD)).strip(_NAME_JUNK)
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
    parsed = read_listing(page, kind.spec)
    states = [kind.healthy(e.state) for e in parsed[:MAX_ITEMS]]
    entries = [
        Entry(e.name, shown_state(e.state), shorten(e.description, MAX_FIELD))
        for e in parsed[:MAX_ITEMS]
    ]
    items = [
        {"name": e.name, "state": e.state, "alive": ok}
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
    elif len(parsed) > MAX_ITEMS:
        missing.append(f"page too long, read only its first {MAX_ITEMS} items")
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
