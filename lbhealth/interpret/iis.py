"""``iis``: is the IIS web server in front of EIM/WIM serving?

UP on a 2xx/3xx answer (IIS's own 302 to the application is healthy). DOWN on
any other status, and on IIS/ASP.NET error pages even when served with 200
(``customErrors`` and custom error pages often are).

HTTP.sys (``Server: Microsoft-HTTPAPI/2.0``) answering instead of IIS means
the request never reached a worker process; its 503 "The service is
unavailable" is the classic stopped application pool, so the reason says so.

A 2xx/3xx answer whose ``Server`` header is not IIS (Apache, a proxy, none at
all) is still UP: the header is often stripped or rewritten by proxies and
hardening, and a working answer is what the load balancer needs. The server
seen is named in the reason and in ``details["server"]`` so that a misrouted
check is visible.
"""

from __future__ import annotations

import re

from lbhealth.interpret.http import OK_2XX_3XX, explain_status, screen
from lbhealth.interpret.text.html import Page, summary
from lbhealth.interpret.text.markers import error_page
from lbhealth.interpret.types import Answer, Rules
from lbhealth.text.clean import shorten
from lbhealth.verdict import Outcome

#: HTTP.sys' own message: "HTTP Error 503. The service is unavailable." (a dot after
#: the code; IIS detailed errors write "HTTP Error 500.19 - ...").
_HTTPSYS_MESSAGE = re.compile(r"HTTP Error (\d{3})\.\s+([^\n.]{1,120})", re.I)


def _is_httpsys(answer: Answer, page: Page) -> bool:
    server = (answer.header("Server") or "").lower()
    return "microsoft-httpapi" in server or (
        "microsoft-iis" not in server and _HTTPSYS_MESSAGE.search(page.text) is not None
    )


def _explain(answer: Answer, page: Page, expected: str) -> str:
    if not _is_httpsys(answer, page):
        return explain_status(answer, page, expected)
    found = _HTTPSYS_MESSAGE.search(page.text)
    message = found.group(2).strip() if found else summary(page)
    hint = " (application pool stopped?)" if answer.status == 503 else ""
    tail = f": {shorten(message, 100)}" if message else ""
    return f"HTTP {answer.status} from HTTP.sys{tail}{hint}"


def _judge(answer: Answer, page: Page, rules: Rules) -> Outcome:
    server = answer.header("Server") or ""
    failure = error_page(page)
    if failure:
        return Outcome.down(f"IIS error page despite HTTP {answer.status}: {failure}")
    if "microsoft-iis" in server.lower():
        return Outcome.up(f"IIS answered {answer.status}", server=server)
    seen = f"from {shorten(server, 60)}" if server else "with no Server header"
    return Outcome.up(f"HTTP {answer.status} {seen} (not IIS)", server=server)


def interpret_iis(answer: Answer, rules: Rules) -> Outcome:
    """Judge an IIS answer: 2xx/3xx and no IIS/ASP.NET error page."""
    return screen(answer, rules, OK_2XX_3XX, _judge, explain=_explain)
