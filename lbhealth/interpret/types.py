"""Inputs of the pure interpreters: an HTTP answer and the check's rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lbhealth.verdict import Outcome


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
        """First value of a header, case-insensitively, or None."""
        wanted = name.lower()
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
