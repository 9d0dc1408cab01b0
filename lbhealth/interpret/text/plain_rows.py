"""The visible lines of a run of plain table rows, read in a few passes over the whole run.

When only the page's text is wanted (every kind but the listings), the rows of
a large report need not be built one by one: what a row shows is its cells'
texts, whitespace collapsed, joined by tabs, and a row of empty cells shows
nothing. A handful of substitutions over the run give exactly those lines at a
fraction of the cost of a Python step per row (``tests/test_html_text_only.py``
checks them against the row-by-row reading).
"""

from __future__ import annotations

import re

#: ``&`` and ``<`` never occur in a plain cell's text (see ``_SIMPLE_ROW`` in
#: :mod:`lbhealth.interpret.text.html`), so they mark cell and row boundaries.
_CELL_MARK = "&"
_ROW_MARK = "<"
_NEXT_CELL = re.compile(r"</t[dh]\s*>\s*<t[dh][^<>]*>", re.I)
_ROW_END = re.compile(r"</t[dh]\s*>\s*</tr\s*>\s*", re.I)
_ROW_START = re.compile(r"<tr[^<>]*>\s*<t[dh][^<>]*>", re.I)
_EMPTY_ROW = re.compile(r"<tr[^<>]*>\s*</tr\s*>\s*", re.I)


def plain_row_lines(run: str) -> list[str]:
    """The lines a run of plain rows shows, one per row with a non-blank cell.

    ``run`` must be consecutive whole matches of the reader's plain-row
    pattern: a closed ``<tr>`` of closed ``<td>``/``<th>`` cells holding no
    markup, entity or comment. Whitespace between its tags is never visible,
    and a cell shows its text with whitespace runs collapsed to one space.
    """
    marked = _NEXT_CELL.sub(_CELL_MARK, run.replace("</td><td>", _CELL_MARK))
    marked = _EMPTY_ROW.sub(_ROW_MARK, _ROW_START.sub("", _ROW_END.sub(_ROW_MARK, marked)))
    # Collapse the cells' whitespace, then drop what is left next to a boundary mark.
    flat = " ".join(marked.split())
    for mark in (_CELL_MARK, _ROW_MARK):
        flat = flat.replace(" " + mark, mark).replace(mark + " ", mark)
    lines = flat.replace(_CELL_MARK, "\t").split(_ROW_MARK)
    return [line for line in lines if line.strip("\t")]
