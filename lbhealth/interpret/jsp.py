"""``jsp``: does an EIM/WIM JSP page render?

JSPs fail in ways the status hides: an exception thrown after the response
was committed still leaves status 200 with a stack trace (or a JBoss Web error
report) in the body, and a JSP that catches an exception may print its stack
trace into an HTML comment of an otherwise normal page. So UP needs 200, a
non-empty body, no server error page, no Java exception or stack frame in the
page's text nor a stack trace's lines in its comments, plus ``rules.expect``
when given (a login page where the application page was expected is the
usual case). Reasons name the root cause of an exception first.

Only specific markers count: an exception class name, a stack frame, an
error-report heading or title. The bare word "error" does not, because
healthy pages carry it in form labels and CSS classes.
"""

from __future__ import annotations

import re

from lbhealth.interpret.http import ONLY_200, screen
from lbhealth.interpret.text.html import Page
from lbhealth.interpret.text.markers import comment_failure, error_page, find_exception, led_by
from lbhealth.interpret.types import Answer, Rules
from lbhealth.text.clean import shorten
from lbhealth.verdict import Outcome

#: Markup that is content without being text: a frameset shell, a form of
#: image buttons, a meta-refresh hop. A page with none of it and no text is blank.
_CONTENT_TAG = re.compile(r"<(?:frame|iframe|input|img|form|object|embed|meta\s+http-equiv)", re.I)


def _judge(answer: Answer, page: Page, rules: Rules) -> Outcome:
    if not page.source.strip():
        return Outcome.down("empty body")
    if not page.text and not _CONTENT_TAG.search(page.source):
        return Outcome.down("blank page (no text, no title, no frames or form)")
    exception = find_exception(page.text)
    failure = error_page(page)
    if failure:
        return Outcome.down(
            f"error page despite HTTP {answer.status}: {led_by(exception, failure)}"
        )
    if exception:
        return Outcome.down(f"page carries {exception}")
    hidden = comment_failure(page)
    if hidden:
        return Outcome.down(f"page carries {hidden} in an HTML comment")
    title = f"'{shorten(page.title, 80)}'" if page.title else "(untitled)"
    return Outcome.up(f"page {title} rendered, HTTP {answer.status}")


def interpret_jsp(answer: Answer, rules: Rules) -> Outcome:
    """Judge a JSP answer: 200 with a real page and no exception or error report."""
    return screen(answer, rules, ONLY_200, _judge)
