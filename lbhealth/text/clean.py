"""Text shown to people and monitors: one printable line of bounded length.

Reasons quote backends (error titles, exception names, listing cells), which
may hold newlines, control characters or a whole stack trace. Every reason,
log value and terminal cell goes through :func:`clean_reason`, the one place
that decides what may be shown and where text is cut.
"""

from __future__ import annotations

import re

#: Longest reason served to a monitor. Monitors read the first line of a small
#: body; a reason that embeds a whole stack trace helps nobody at 3 a.m.
MAX_REASON = 300
#: Longest client-supplied name (a node, a role) quoted back in an error.
MAX_NAME = 80
_CUT = "..."
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")
#: RMI exceptions repeat their cause ("...; nested exception is: ..."): the first sentence says it.
_NESTED = "; nested exception is"


def clean_reason(text: str, limit: int = MAX_REASON) -> str:
    """Fold text onto one printable line of at most ``limit`` characters.

    Whitespace runs become one space; a cut is marked with ``...``, so a reader
    knows something was left out. An empty string when ``limit`` is 0.
    """
    if limit <= 0:
        return ""
    one_line = " ".join(_UNPRINTABLE.sub(" ", text).split())
    if len(one_line) <= limit:
        return one_line
    return one_line[: max(limit - len(_CUT), 1)].rstrip() + _CUT


def quoted(name: str) -> str:
    """A name a client or a file supplied, quoted for an error message: bounded, one line."""
    return clean_reason(repr(name), MAX_NAME)


def shorten(text: str, width: int = 80) -> str:
    """:func:`clean_reason` of the first sentence of a nested Java exception message."""
    return clean_reason(text.split(_NESTED, 1)[0], width)
