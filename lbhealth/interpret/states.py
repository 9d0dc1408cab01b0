"""How a listing's state cells read: as comparable words, and as a person is shown them.

JSPs put quotes around states (``"Remote Object is Alive"``), and pages
written in cp1252 but served as UTF-8 (or the reverse) turn curly quotes into
``?`` or U+FFFD. Comparing ignores every quote; showing drops the pair around
a state, so the JSON shows ``Remote Object is Alive`` without the page's quotes.
"""

from __future__ import annotations

import re

from lbhealth.text.clean import shorten

#: Longest name, state or description kept from a listing: every parsed field
#: is bounded, whatever a page holds (a 900 KB Description cell).
MAX_FIELD = 200

_QUOTE = "[\"'`?\u00a0\u00ab\u00bb\u2018-\u201f\u2032\u2033\ufffd]"
_QUOTES = re.compile(_QUOTE + "+")
_QUOTED = re.compile(f"{_QUOTE}+(.*?){_QUOTE}+([.,;:!]?)", re.S)


def shown_state(text: str) -> str:
    """A state as a person reads it: without the quotes the page puts around it.

    ``"Remote Object is Alive"`` in straight, curly or mangled (``?``) quotes
    is shown as ``Remote Object is Alive``; any other text as it is, bounded.
    """
    quoted = _QUOTED.fullmatch(text.strip())
    if quoted and quoted.group(1).strip():
        text = quoted.group(1) + quoted.group(2)
    return shorten(text, MAX_FIELD)


def normalise_state(text: str) -> str:
    """A state as comparable words: no quotes (straight, curly, mangled to ``?``), lower case.

    Pages written in cp1252 and served as UTF-8 (or the reverse) turn the
    JSP's curly quotes into ``?`` or U+FFFD; all of them are just noise here.
    """
    words = _QUOTES.sub(" ", text[:500]).casefold().split()
    return " ".join(words).strip(".:;,!-")
