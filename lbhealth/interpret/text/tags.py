"""The text past the reader's limits: every tag replaced by a space.

Past :data:`~lbhealth.interpret.text.html.MAX_TAGS` or ``MAX_ROWS`` the reader
stops structuring, and the rest of the page is still searched as text: each
tag (to its ``>``, or to the next ``<`` when unclosed) becomes a space. On a
large report this is most of the page, so it is done in C: a literal pass and
one regex substitution.
"""

from __future__ import annotations

import re

#: A tag: to its ``>``, or to the next ``<`` (or NUL, see :func:`strip_tags`) when unclosed.
_ANY_TAG = re.compile(r"<[/!?A-Za-z][^<>\x00]*>?")


def strip_tags(text: str) -> str:
    """Every tag of ``text`` (NUL-free, as the reader makes it) replaced by a space.

    Adjacent cells (``</td><td>``, most of the tags of a large report) are
    replaced first by two NULs in a literal pass, twice as fast per tag as the
    pattern's; the pattern stops at a NUL as it would at the ``<`` it replaced
    (an unclosed tag before them ends there), and the NULs become the two
    spaces the two tags would: the same text as the pattern alone.
    """
    marked = text.replace("</td><td>", "\0\0")
    return _ANY_TAG.sub(" ", marked).replace("\0", " ")
