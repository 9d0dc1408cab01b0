"""``icm-connections``: are the MR and ARM links to Cisco ICM connected?

ICMIntegratedConnections.jsp lists the Media Routing (MR, served by EAAS) and
Agent Reporting and Management (ARM, served by the Listener) links, and any
other link rows, with their state. Only "Connected" counts, as a whole word at
the start of the state: "Not Connected" and "Disconnected" contain the word
and must not pass; "Connecting" is a link still trying, so not yet routing.

DOWN when any link is not connected (each is named with its state), when no
link is listed, when ``rules.require`` names a link not listed or not
connected, and when the page is cut off (unseen rows may be down).
"""

from __future__ import annotations

import re

from lbhealth.interpret.http import listing_interpreter
from lbhealth.interpret.listing import Listing, ListingRules
from lbhealth.interpret.states import normalise_state

_CONNECTED = re.compile(r"connected\b")
_NEGATED = re.compile(r"\b(?:not|no|never|lost|dis\w*|un\w*|fail\w*|error|down|closed)\b")
_STATE_WORDS = (
    r"(?:not\s+|dis|un|re)?connect(?:ed|ing)|down|up|closed|open|failed|failure|offline|online"
    r"|idle|inactive|active|in\s+service|out\s+of\s+service|unknown|timed?\s*out|lost"
    r"|established|stopped|started|no\s+connection|connection\s+lost|listening|error"
)
#: Link-state words: certain in a cell; other state words only look like one
#: (an "Active"/"Enabled" column next to the status must not win).
_STRONG = re.compile(r"(?:not\s+|dis|un|re)?connect(?:ed|ing)|no\s+connection|connection\s+lost")
_WEAK = re.compile(_STATE_WORDS)
_STATE_IN_LINE = re.compile(
    r"\b(?:not\s+connected|disconnected|unconnected|reconnecting|connected|connecting"
    r"|not\s+connecting|down|closed|failed|offline|online|idle|lost|established"
    r"|no\s+connection|unknown)\b",
    re.I,
)


def _state_start(line: str) -> int:
    found = _STATE_IN_LINE.search(line)
    return found.start() if found else -1


def connected(state: str) -> bool:
    """True only for "Connected" (any case, quotes, trailing detail) with no negation."""
    norm = normalise_state(state)
    return bool(_CONNECTED.match(norm)) and not _NEGATED.search(norm)


def _score(cell: str) -> int:
    norm = normalise_state(cell)
    if _STRONG.fullmatch(norm):
        return 2
    return 1 if "connect" in norm or _WEAK.fullmatch(norm) else 0


_RULES = ListingRules(
    spec=Listing(
        state_score=_score,
        state_in_line=_state_start,
        name_header=re.compile(
            r"\b(?:link|name|type|connection|peripheral|interface|channel)\b", re.I
        ),
    ),
    key="links",
    healthy=connected,
    dead=lambda name, state: (
        f"{name} link {state} (not connected)" if state else f"{name} link not connected"
    ),
    missing="{} link not listed",
    nothing="no MR/ARM links listed",
    up=lambda ok, _na: f"{ok} link{'s' if ok != 1 else ''} connected",
)


#: Judge ICMIntegratedConnections.jsp: every listed link Connected.
interpret_icm_connections = listing_interpreter(_RULES)
