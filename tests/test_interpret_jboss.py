"""jboss: welcome page on 200 is UP; error reports, other statuses and other pages are DOWN."""

from __future__ import annotations

import re

import pytest

from lbhealth.interpret import Outcome, Rules, interpret
from lbhealth.verdict import Status
from tests._cases import answer


def jboss(body: str, status: int = 200, rules: Rules | None = None) -> Outcome:
    return interpret("jboss", answer(body, status), rules or Rules())


@pytest.mark.parametrize(
    "title",
    [
        "Welcome to JBoss&trade;",
        "Welcome to JBoss AS",
        "Welcome to JBoss Application Server 7",
        "Welcome to AS 7",
        "Welcome to WildFly",
        "Welcome to WildFly 26",
        "Welcome to JBoss EAP 6",
        "Welcome to Red Hat JBoss Enterprise Application Platform 7",
    ],
)
def test_welcome_pages_are_up(title: str) -> None:
    outcome = jboss(f"<html><head><title>{title}</title></head><body></body></html>")
    assert outcome.status is Status.UP


def test_welcome_marker_in_body_is_enough() -> None:
    assert jboss("<html><body><h3>JBoss Online Resources</h3></body></html>").status is Status.UP


@pytest.mark.parametrize(
    "body",
    [
        "<html><head><title>JBoss Web/2.1.3.GA - Error report</title></head></html>",
        "<html><head><title>Apache Tomcat/7.0.42 - Error report</title></head></html>",
        "<html><head><title>Error</title></head><body>Internal Server Error</body></html>",
        "<html><body>Error processing request<br>Context Path: /</body></html>",
        "<html><head><title>HTTP Status 404 \u2013 Not Found</title></head></html>",
        "<title>JBoss Web/7.0.13.Final - JBWEB000064: Error report</title>",
    ],
)
def test_error_reports_with_200_are_down(body: str) -> None:
    assert jboss(body).status is Status.DOWN


def test_other_page_is_down_with_its_title() -> None:
    outcome = jboss("<html><head><title>Cisco Interaction Manager - Login</title></head></html>")
    assert outcome.reason == (
        "200 but no JBoss welcome page (title 'Cisco Interaction Manager - Login')"
    )


def test_other_status_is_down_with_page_summary() -> None:
    outcome = jboss("<html><head><title>Error</title></head><body>Not Found</body></html>", 404)
    assert outcome.reason == "HTTP 404, expected 200: Error: Not Found"


def test_expect_replaces_welcome_page_requirement() -> None:
    rules = Rules(expect=re.compile("EIM ready"))
    assert jboss("<html><body>EIM ready</body></html>", rules=rules).status is Status.UP


def test_status_accepted_by_override_skips_welcome_page_check() -> None:
    rules = Rules(expect_status=frozenset({401}))
    body = "<html><head><title>JBoss Web/2.1.3.GA - Error report</title></head></html>"
    assert jboss(body, 401, rules).status is Status.UP


@pytest.mark.parametrize(
    "page",
    [
        "<title>JBoss Application Server is starting</title>",
        "<title>Welcome to JBoss AS</title><p>Deployment in progress, please wait.</p>",
        "<title>WildFly</title><h1>WildFly is shutting down</h1>",
    ],
)
def test_starting_or_stopping_server_is_down(page: str) -> None:
    outcome = jboss(f"<html><head>{page}</head><body></body></html>")
    assert outcome.status is Status.DOWN
    assert "not ready" in outcome.reason
