"""An answer identical to the last one a check read is not read again.

Interpreters are pure: the same answer and rules always give the same
outcome. Health pages rarely change from one probe to the next (a welcome
page, an RMI listing whose processes are all alive, a console page), and
reading a 350 KB page costs milliseconds of regex work where a SHA-256 of it
costs about a tenth of one. So each check keeps the fingerprint of the last
answer it read, with the outcome that reading gave; the same answer again gets
that outcome without being read. Any changed byte of the body, the status, the
cut flag or a header an interpreter reads (:data:`READ_HEADERS`; ``Date``
changes every second and means nothing to a verdict) is a fresh reading.

Memory: one digest and one outcome per check, forgotten with the check.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lbhealth.interpret import READ_HEADERS, Answer, Rules, interpret
from lbhealth.store.verdicts import Key
from lbhealth.verdict import Outcome


def fingerprint(answer: Answer) -> bytes:
    """SHA-256 of everything in ``answer`` an interpreter can read.

    Each field is written with its length first, so that no two different
    answers write the same bytes; an absent header is not an empty one.
    """
    digest = hashlib.sha256()
    fields = [str(answer.status), "cut" if answer.truncated else "whole"]
    for name in READ_HEADERS:
        value = answer.header(name)
        fields.append("-" if value is None else f"={value}")
    for field in fields:
        data = field.encode("utf-8", "surrogateescape")
        digest.update(b"%d:" % len(data) + data)
    digest.update(answer.body)
    return digest.digest()


@dataclass(frozen=True, slots=True)
class _Reading:
    kind: str
    rules: Rules
    digest: bytes
    outcome: Outcome


class Readings:
    """The last reading of every check: what it read, under which rules, and what it meant."""

    def __init__(self) -> None:
        self._last: dict[Key, _Reading] = {}
        #: Readings done, and answers found identical to the last one read (for tests
        #: and the benchmark; a reading skipped is invisible otherwise).
        self.read = 0
        self.reused = 0

    def outcome(self, key: Key, kind: str, answer: Answer, rules: Rules) -> Outcome:
        """What ``answer`` means for the check ``key``: the last outcome when nothing
        it depends on changed, else a fresh reading by the kind's interpreter."""
        seen = fingerprint(answer)
        last = self._last.get(key)
        if last is not None and last.digest == seen and last.kind == kind and last.rules == rules:
            self.reused += 1
            return last.outcome
        outcome = interpret(kind, answer, rules)
        self.read += 1
        self._last[key] = _Reading(kind, rules, seen, outcome)
        return outcome

    def __len__(self) -> int:
        return len(self._last)

    def forget(self, key: Key) -> None:
        """Drop the memory of a check that is gone (a reload removed or changed it)."""
        self._last.pop(key, None)
