"""Inputs of the pure interpreters: an HTTP answer and the check's rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lbhealth.verdict import Outcome

#: The only headers an interpreter reads, through :meth:`Answer.header`: an
#: answer is the same for the interpreters when its status, cut flag, body and
#: these headers are (:mod:`lbhealth.core.readings` relies on it; ``Date`` or
#: ``Set-Cookie`` differ every time and never change a verdict).
READ_HEADERS = ("Content-Type", "Server")
_READ = frozenset(name.lower() for name in READ_HEADERS)


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer as received, body already bounded by the prober.

    ``headers`` keeps the order and repetition of the wire (names as sent);
    ``truncated`` says the body was cut at the configured cap, so a parser
    must not treat a missing tail as evidence of absence without saying so.
    """

    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes
    truncated: bool = False

    def header(self, name: str) -> str | None:
        """First value of a header, case-insensitively, or None.

        Only :data:`READ_HEADERS` may be asked for: reading another would make
        answers that differ only in it wrongly the same to the readings' memory.
        """
        wanted = name.lower()
        if wanted not in _READ:
            raise KeyError(f"interpreters read only {', '.join(READ_HEADERS)}, not {name}")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Rules:
    """Per-check overrides of a kind's default reading.

    ``expect_status`` replaces the kind's own idea of an acceptable status;
    ``expect`` must match the decoded body, ``reject`` must not; ``require``
    names processes or links that must be present and healthy.
    """

    expect_status: frozenset[int] | None = None
    expect: re.Pattern[str] | None = None
    reject: re.Pattern[str] | None = None
    require: tuple[str, ...] = ()


Interpreter = Callable[[Answer, Rules], Outcome]
