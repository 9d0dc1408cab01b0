"""``jboss``: is the JBoss application server on :9001 up?

EIM/WIM's JBoss answers its root URL with the stock welcome page (JBoss 4.x
"Welcome to JBoss", AS 5/6, AS 7, EAP, WildFly). That page proves the web
container deployed and serves; so UP needs 200 *and* the welcome page.

DOWN on JBoss Web / Tomcat / Undertow error reports (also when served with
200), on a page saying the server is still starting or deploying (or
shutting down), on any other status, and on a 200 page that is not the welcome page: a
login or proxy page on :9001 means something else answers there. When the
welcome content was removed on purpose, set ``rules.expect`` to what the
server does show; it then replaces the welcome-page requirement.
"""

from __future__ import annotations

import re

from lbhealth.interpret.http import ONLY_200, screen
from lbhealth.interpret.text.html import Page
from lbhealth.interpret.text.markers import error_page
from lbhealth.interpret.types import Answer, Rules
from lbhealth.text.clean import shorten
from lbhealth.verdict import Outcome

_WELCOME = re.compile(
    r"welcome\s+to\s+(?:jboss|wildfly|as\s*\d|red\s+hat\s+jboss)"
    r"|jboss\W{0,3}(?:application\s+server|as\s*\d|eap\b|enterprise\s+application\s+platform"
    r"|online\s+resources|management)"
    r"|wildfly|your\s+jboss",
    re.I,
)

#: A server still booting (or going down) may put up its own page naming JBoss;
#: it is not serving, so it never counts as the welcome page.
_NOT_READY = re.compile(
    r"\b(?:is\s+(?:still\s+)?(?:starting|stopping|shutting\s+down|being\s+deployed)"
    r"|starting\s+up|shutting\s+down|deployment\s+(?:is\s+)?in\s+progress"
    r"|not\s+yet\s+(?:available|ready|started|deployed))\b",
    re.I,
)
#: The start-up notice sits in the title or the first lines.
_NOT_READY_HEAD = 2048

#: The welcome page is a small static page whose markers sit in its first lines;
#: looking further only slows down the reading of a huge page that is not it.
_HEAD = 64 * 1024


def _judge(answer: Answer, page: Page, rules: Rules) -> Outcome:
    failure = error_page(page)
    if failure:
        return Outcome.down(f"error page despite HTTP {answer.status}: {failure}")
    not_ready = _NOT_READY.search(page.title) or _NOT_READY.search(page.text[:_NOT_READY_HEAD])
    if not_ready:
        what = shorten(page.title or not_ready.group(0), 80)
        return Outcome.down(f"JBoss not ready ({not_ready.group(0)}): {what}")
    welcome = _WELCOME.search(page.title) or _WELCOME.search(page.text[:_HEAD])
    if welcome:
        return Outcome.up(f"JBoss welcome page: {shorten(page.title or welcome.group(0), 80)}")
    if rules.expect is not None:
        return Outcome.up(f"JBoss answered {answer.status}")
    title = f"title '{shorten(page.title, 80)}'" if page.title else "no title"
    return Outcome.down(f"{answer.status} but no JBoss welcome page ({title})")


def interpret_jboss(answer: Answer, rules: Rules) -> Outcome:
    """Judge a JBoss root answer: 200 with a welcome page and no error report."""
    return screen(answer, rules, ONLY_200, _judge)
