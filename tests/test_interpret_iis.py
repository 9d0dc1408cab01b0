"""iis: IIS up on 2xx/3xx, down on HTTP.sys answers and IIS/ASP.NET error pages."""

from __future__ import annotations

import pytest

from lbhealth.interpret import Outcome, Rules, interpret
from lbhealth.verdict import Status
from tests._cases import answer

HTTPSYS_503 = (
    "<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD><BODY><h2>Service Unavailable</h2>"
    "<hr><p>HTTP Error 503. The service is unavailable.</p></BODY></HTML>"
)


def iis(body: str, status: int = 200, server: str | None = "Microsoft-IIS/8.5") -> Outcome:
    return interpret("iis", answer(body, status, "text/html", server=server), Rules())


@pytest.mark.parametrize("status", [200, 204, 301, 302, 304])
def test_ok_statuses_from_iis_are_up(status: int) -> None:
    outcome = iis("<html><head><title>IIS Windows Server</title></head></html>", status)
    assert outcome.status is Status.UP
    assert outcome.reason == f"IIS answered {status}"


def test_httpsys_503_says_application_pool_stopped() -> None:
    outcome = iis(HTTPSYS_503, 503, "Microsoft-HTTPAPI/2.0")
    assert outcome.reason == (
        "HTTP 503 from HTTP.sys: The service is unavailable (application pool stopped?)"
    )


def test_httpsys_is_recognised_by_its_message_without_server_header() -> None:
    assert "from HTTP.sys" in iis(HTTPSYS_503, 503, None).reason


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 502, 503])
def test_error_statuses_are_down(status: int) -> None:
    outcome = iis("<html><head><title>Oops</title></head></html>", status)
    assert outcome.reason == f"HTTP {status}, expected 2xx/3xx: Oops"


@pytest.mark.parametrize(
    "body",
    [
        "<html><head><title>Runtime Error</title></head><body>"
        "<H1>Server Error in '/' Application.<hr></H1></body></html>",
        "<title>Object reference not set</title><h1>Server Error in '/eService' Application.</h1>",
        "<title>IIS 7.5 Detailed Error - 500.19 - Internal Server Error</title>",
        "<h3>HTTP Error 500.19 - Internal Server Error</h3>",
        "<title>The page cannot be displayed</title>",
        "<font face=Arial>Microsoft VBScript runtime error '800a000d'</font>",
    ],
    ids=["ysod", "ysod-app", "detailed-title", "detailed-heading", "iis6", "classic-asp"],
)
def test_error_pages_served_with_200_are_down(body: str) -> None:
    outcome = iis(body)
    assert outcome.status is Status.DOWN
    assert outcome.reason.startswith("IIS error page despite HTTP 200")


def test_other_server_with_ok_status_is_up_and_named() -> None:
    outcome = iis("<html><body>It works!</body></html>", server="Apache/2.4.6 (CentOS)")
    assert outcome.status is Status.UP
    assert outcome.reason == "HTTP 200 from Apache/2.4.6 (CentOS) (not IIS)"
    assert outcome.details["server"] == "Apache/2.4.6 (CentOS)"


def test_page_mentioning_errors_in_prose_is_up() -> None:
    body = "<title>Help</title><p>If an error persists, call the help desk.</p>"
    assert iis(body).status is Status.UP
