"""``rmi-objects``: are the EIM/WIM services' RMI objects alive (listrmiobjects.jsp)?

The debug page lists each process (DX, RX, EAAS, Listener, ...) with its
remote object's state. "Remote Object is Alive" is alive, whatever the case,
spacing, entities or quotes around it (cp1252 curly quotes often arrive as
``?``); "NA" / "N/A" marks a process not deployed on this node and is
ignored; anything else ("Remote Object is Not Alive", a
``java.rmi.ConnectException``) is dead, and each dead process is named with
its state.

DOWN also when nothing is listed (an empty list proves nothing), when
``rules.require`` names a process not listed or not alive, and when the page
is cut off, because the unseen rows may be the dead ones.
"""

from __future__ import annotations

import re

from lbhealth.interpret.http import listing_interpreter
from lbhealth.interpret.listing import Listing, ListingRules
from lbhealth.interpret.states import normalise_state
from lbhealth.interpret.text.markers import exception_at

_NA = re.compile(r"n\s*/?\s*a\b")
_ALIVE = re.compile(r"(?:remote\s*object\s*)?(?:is\s+)?alive\b")
_NEGATED = re.compile(r"\b(?:not|no|dead|exception|error|refused|fail\w*|down|unreachable)\b")
_STRONG = re.compile(
    r"(?:remote\s*object\s*)?(?:is\s+)?(?:not\s+)?alive|n\s*/?\s*a|[\w$.]+exception\b.*"
)
_WEAK = re.compile(
    r"remote\s*object|alive|exception|refused|not\s+bound|unreachable|unavailable|timed?\s*out"
    r"|\bdead\b|\bdown\b|stopped|failed|\berror\b"
)
#: Where a state starts in a plain line such as "EAAS : Remote Object is Alive"
#: (exceptions are found by :func:`exception_at`).
_STATE_IN_LINE = re.compile(
    r"\bremote\s*object\b|\b(?:not\s+)?alive\b|\bn/a\b|(?<![\w/])na\b(?![/\w])"
    r"|\bnot\s+bound\b|\bconnection\s+refused\b",
    re.I,
)


def _state_start(line: str) -> int:
    starts = [found.start()] if (found := _STATE_IN_LINE.search(line)) else []
    if (exception := exception_at(line)) is not None:
        starts.append(exception[0])
    return min(starts, default=-1)


def alive(state: str) -> bool | None:
    """True for "Remote Object is Alive" in any dress, None for NA, False otherwise."""
    norm = normalise_state(state)
    if _NA.match(norm):
        return None
    return bool(_ALIVE.match(norm)) and not _NEGATED.search(norm)


def _score(cell: str) -> int:
    norm = normalise_state(cell)
    if _STRONG.fullmatch(norm):
        return 2
    return 1 if _WEAK.search(norm) else 0


_RULES = ListingRules(
    spec=Listing(
        state_score=_score,
        state_in_line=_state_start,
        name_header=re.compile(r"\b(?:process|name|service|component|object|server)\b", re.I),
    ),
    key="processes",
    healthy=alive,
    dead=lambda name, state: f"{name} not alive ({state})" if state else f"{name} not alive",
    missing="{} not listed",
    nothing="no processes listed",
    up=lambda ok, na: f"{ok} process{'es' if ok != 1 else ''} alive" + (f", {na} NA" if na else ""),
)


#: Judge listrmiobjects.jsp: every listed process alive, NA ignored.
interpret_rmi_objects = listing_interpreter(_RULES)
