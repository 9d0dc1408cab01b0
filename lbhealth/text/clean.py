"""Text shown to people and monitors: one printable line of bounded length.

Reasons quote backends (error titles, exception names, listing cells), which
may hold newlines, control characters or a whole stack trace. Every reason,
log value and terminal cell goes through :func:`clean_reason`, the one place
that decides what may be shown and where text is cut.

What may not be shown, and why:

- terminal controls: C0 and DEL, and the 8-bit C1 set (U+0080-U+009F), whose
  CSI (U+009B) many terminals obey as ``ESC [``: a page naming a process
  ``EA\\u009b2J`` would clear the screen of whoever runs ``lbhealth status``;
- the Unicode bidi controls (U+061C, U+200E, U+200F, U+202A-U+202E,
  U+2066-U+2069), which reorder what follows them so that a line reads
  differently from what it holds ("Trojan Source");
- line and paragraph separators (U+2028, U+2029): one line means one line;
- the state token ``lbhealth-state``: F5 receive strings match
  ``x-lbhealth-state: up`` against the whole response, so no shown text may
  carry it (it reads ``lbhealth_state``; any case).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

#: Longest reason served to a monitor. Monitors read the first line of a small
#: body; a reason that embeds a whole stack trace helps nobody at 3 a.m.
MAX_REASON = 300
#: Longest client-supplied name (a node, a role) quoted back in an error.
MAX_NAME = 80
_CUT = "..."
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0, DEL, C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # Unicode Bidi_Control
    "\u2028\u2029]+"  # line and paragraph separators
)
_STATE_TOKEN = re.compile("lbhealth-state", re.IGNORECASE)
#: Text read at most: past this a caller gets the head, marked as cut. Whitespace
#: is collapsed only after this bound, so the bound must leave room for it.
_MAX_READ = 64 * 1024
#: Nesting :func:`map_strings` walks into; deeper data is replaced, not shown unread.
_MAX_DEPTH = 8
#: RMI exceptions repeat their cause ("...; nested exception is: ..."): the first sentence says it.
_NESTED = "; nested exception is"


def clean_reason(text: str, limit: int = MAX_REASON) -> str:
    """Fold text onto one printable line of at most ``limit`` characters.

    Whitespace and unprintable runs become one space, the state token is
    defused; a cut is marked with ``...`` (so a reader knows something was
    left out, and :func:`lbhealth.text.redact.redact` can mask a secret's head
    left at the cut). An empty string when ``limit`` is 0.
    """
    if limit <= 0:
        return ""
    cut = len(text) > _MAX_READ
    one_line = " ".join(_UNPRINTABLE.sub(" ", text[:_MAX_READ]).split())
    one_line = _STATE_TOKEN.sub("lbhealth_state", one_line)
    if cut:
        one_line += _CUT
    if len(one_line) <= limit:
        return one_line
    return one_line[: max(limit - len(_CUT), 1)].rstrip() + _CUT


def quoted(name: str) -> str:
    """A name a client or a file supplied, quoted for an error message: bounded, one line."""
    return clean_reason(repr(name), MAX_NAME)


def shorten(text: str, width: int = 80) -> str:
    """:func:`clean_reason` of the first sentence of a nested Java exception message."""
    return clean_reason(text.split(_NESTED, 1)[0], width)


def map_strings(value: Any, change: Callable[[str], str], depth: int = 0) -> Any:
    """JSON-like ``value`` with ``change`` applied to every string in it, keys too.

    Containers nested past ``_MAX_DEPTH`` are replaced by ``...``: data this
    deep is no evidence anybody reads, and walking it unbounded would let a
    page choose how long the walk takes.
    """
    if isinstance(value, str):
        return change(value)
    if not isinstance(value, (Mapping, list, tuple)):
        return value
    if depth >= _MAX_DEPTH:
        return _CUT
    if isinstance(value, Mapping):
        return {
            map_strings(k, change, depth + 1): map_strings(v, change, depth + 1)
            for k, v in value.items()
        }
    return [map_strings(item, change, depth + 1) for item in value]


def clean_data(value: Any, limit: int = MAX_REASON) -> Any:
    """JSON-like ``value`` with every string in it a :func:`clean_reason` line of ``limit``.

    Details quote backends as much as a reason does (parsed rows, the Server
    header), and are served in the JSON views and printed by ``lbhealth probe``.
    """
    return map_strings(value, lambda text: clean_reason(text, limit))
