"""The generic ``http`` check, and the status/expect/reject screening every kind shares.

Every kind starts the same way (gatus-style conditions): the status must be
acceptable, ``rules.reject`` must not match the decoded body and
``rules.expect`` must. :func:`screen` does that once for all kinds; a kind adds
only its own reading of the page (its ``judge``). The ``http`` kind is exactly
that screening with no judge.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lbhealth.interpret.listing import ListingRules, judge_listing
from lbhealth.interpret.text.html import Page, read_page, summary
from lbhealth.interpret.text.markers import find_exception, led_by
from lbhealth.interpret.types import Answer, Interpreter, Rules
from lbhealth.text.clean import shorten
from lbhealth.verdict import Outcome, Status

#: What "the request worked" means for a plain HTTP check (as for a Kubernetes httpGet probe).
OK_2XX_3XX = frozenset(range(200, 400))
ONLY_200 = frozenset({200})

Judge = Callable[[Answer, Page, Rules], Outcome]
Explain = Callable[[Answer, Page, str], str]


def describe_statuses(codes: frozenset[int]) -> str:
    """Acceptable statuses as a monitor would write them: "200", "2xx/3xx", "200/302"."""
    parts: list[str] = []
    rest = set(codes)
    for hundred in range(1, 6):
        block = set(range(hundred * 100, hundred * 100 + 100))
        if block <= rest:
            parts.append(f"{hundred}xx")
            rest -= block
    listed = sorted(rest)
    parts.extend(str(code) for code in listed[:6])
    if len(listed) > 6:
        parts.append("...")
    return "/".join(parts) or "nothing"


def explain_status(answer: Answer, page: Page, expected: str) -> str:
    """Default reason for an unacceptable status: the status, what was expected, the page.

    A page carrying a Java exception (Tomcat's or Jetty's 500 report) is named
    by its root cause first, then its title: "HTTP 500, expected 200:
    java.lang.NullPointerException: ... (HTTP Status 500 - Internal Server Error)".
    """
    what = led_by(find_exception(page.text), summary(page))
    reason = f"HTTP {answer.status}, expected {expected}"
    return f"{reason}: {what}" if what else reason


def _excerpt(source: str, match: re.Match[str]) -> str:
    """What a reject pattern matched, or the text around an empty match."""
    found = match.group(0)
    if not found.strip():
        found = source[max(match.start() - 30, 0) : match.end() + 30]
    return shorten(found, 60)


def screen(
    answer: Answer,
    rules: Rules,
    default_status: frozenset[int],
    judge: Judge | None = None,
    *,
    explain: Explain = explain_status,
    judge_any_status: bool = False,
    reads_rows: bool = False,
) -> Outcome:
    """Apply status, kind judgement, reject and expect, in that order; first DOWN wins.

    The kind's ``judge`` reads the page only for statuses its
    ``default_status`` accepts: a status admitted solely by
    ``rules.expect_status`` (a 401 from a protected console, say) says the
    operator expects some other page, which the kind cannot judge. Listing
    kinds pass ``judge_any_status`` because their list is the whole point.
    The judge runs before ``expect`` so that a page carrying an exception
    reports the exception, not just "does not match expect". Only a judge that
    ``reads_rows`` (the listings) gets the page's table rows: building them is
    most of the cost of reading a large page, and its text is the same without.
    """
    page = read_page(answer, rows=reads_rows)
    allowed = rules.expect_status if rules.expect_status is not None else default_status
    if answer.status not in allowed:
        return Outcome.down(explain(answer, page, describe_statuses(allowed)))
    verdict: Outcome | None = None
    if judge is not None and (judge_any_status or answer.status in default_status):
        verdict = judge(answer, page, rules)
        if verdict.status is Status.DOWN:
            return verdict
    if rules.reject is not None:
        rejected = rules.reject.search(page.source)
        if rejected:
            return Outcome.down(
                f"body matches reject /{rules.reject.pattern}/: '{_excerpt(page.source, rejected)}'"
            )
    if rules.expect is not None and not rules.expect.search(page.source):
        return Outcome.down(f"body does not match expect /{rules.expect.pattern}/")
    if verdict is not None:
        return verdict
    return Outcome.up(f"HTTP {answer.status}")


def listing_interpreter(kind: ListingRules) -> Interpreter:
    """The interpreter of a listing kind (rmi-objects, icm-connections): only 200 is
    acceptable, and the list is judged even under a status ``rules.expect_status``
    admits, since the list is the whole point of the page."""

    def interpret_listing(answer: Answer, rules: Rules) -> Outcome:
        return screen(
            answer,
            rules,
            ONLY_200,
            lambda _answer, page, rules: judge_listing(page, rules, kind),
            judge_any_status=True,
            reads_rows=True,
        )

    return interpret_listing


def interpret_http(answer: Answer, rules: Rules) -> Outcome:
    """Generic check: 2xx/3xx (or ``rules.expect_status``), then ``expect``/``reject``."""
    return screen(answer, rules, OK_2XX_3XX)
