"""What a probe saw, as data: every failure is an error kind with a detail, never an exception."""

from __future__ import annotations

from dataclasses import dataclass

from lbhealth.interpret import Answer


@dataclass(frozen=True, slots=True)
class Observation:
    """What one probe saw: an answer, or an error kind with a human detail."""

    answer: Answer | None
    error: str | None
    detail: str
    elapsed: float
    bytes_read: int = 0


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """Everything the prober needs to know about an HTTP check."""

    url: str
    headers: tuple[tuple[str, str], ...] = ()
    follow_redirects: bool = False
