"""jsp: a real page on 200 is UP; exceptions, stack traces and error reports are DOWN."""

from __future__ import annotations

import re

import pytest

from lbhealth.interpret import Outcome, Rules, interpret
from lbhealth.verdict import Status
from tests._cases import answer

LOGIN = (
    "<html><head><title>Cisco Interaction Manager - Login</title></head><body>"
    '<form><span class="error"></span><label>User name</label><input name="userName">'
    "</form></body></html>"
)


def jsp(body: str | bytes, status: int = 200, rules: Rules | None = None) -> Outcome:
    return interpret("jsp", answer(body, status), rules or Rules())


def test_login_page_is_up() -> None:
    assert jsp(LOGIN).reason == "page 'Cisco Interaction Manager - Login' rendered, HTTP 200"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("java.lang.NullPointerException", "java.lang.NullPointerException"),
        ("javax.servlet.ServletException: boom", "javax.servlet.ServletException: boom"),
        ("jakarta.servlet.ServletException", "jakarta.servlet.ServletException"),
        ("org.apache.jasper.JasperException: x.jsp(3,1)", "org.apache.jasper.JasperException"),
        ("JasperException: Unable to compile", "JasperException"),
        ("com.egain.session.Session$ExpiredException", "com.egain.session.Session$Expired"),
        ("Caused by: java.lang.OutOfMemoryError: PermGen", "java.lang.OutOfMemoryError"),
        ("  at com.foo.Bar(Bar.java:12)", "stack trace at com.foo.Bar(Bar.java:12)"),
        (
            "\tat org.jboss.Foo.run(Native Method)",
            "stack trace at org.jboss.Foo.run(Native Method)",
        ),
    ],
)
def test_java_failures_in_a_200_page_are_down_and_named(text: str, named: str) -> None:
    outcome = jsp(f"<html><head><title>Inbox</title></head><body><div>{text}</div></body></html>")
    assert outcome.status is Status.DOWN
    assert named in outcome.reason


@pytest.mark.parametrize(
    "body",
    [
        LOGIN,
        "<html><body><p>Error: none</p><p>Errors today: 0</p></body></html>",
        "<html><body><script>throw new Error('java.lang.Exception')</script>Hello</body></html>",
        "<html><body><!-- java.lang.NullPointerException -->Hello</body></html>",
        "<html><body>Read about ErrorHandling and the Exception class.</body></html>",
        "<html><body><a href='x'>Report an error</a></body></html>",
    ],
)
def test_words_like_error_do_not_make_a_page_down(body: str) -> None:
    assert jsp(body).status is Status.UP


@pytest.mark.parametrize("body", ["", "   \r\n  "])
def test_empty_body_is_down(body: str) -> None:
    assert jsp(body).reason == "empty body"


def test_non_200_names_status_exception_and_title() -> None:
    body = (
        "<html><head><title>JBoss Web/2.1.3.GA - Error report</title></head><body>"
        "<pre>org.apache.jasper.JasperException: Unable to compile class for JSP</pre>"
        "</body></html>"
    )
    assert jsp(body, 500).reason == (
        "HTTP 500, expected 200: org.apache.jasper.JasperException: Unable to compile class"
        " for JSP (JBoss Web/2.1.3.GA - Error report)"
    )


def test_error_report_with_200_is_down() -> None:
    body = "<html><head><title>Apache Tomcat/6.0.20 - Error report</title></head></html>"
    assert jsp(body).status is Status.DOWN


def test_login_page_where_expect_wants_another_page_is_down() -> None:
    outcome = jsp(LOGIN, rules=Rules(expect=re.compile("Inbox")))
    assert outcome.reason == "body does not match expect /Inbox/"


def test_blank_html_page_is_down() -> None:
    assert jsp("<html><head></head><body>\n</body></html>").reason.startswith("blank page")


def test_frameset_without_text_is_a_real_page() -> None:
    assert jsp("<frameset><frame src='main.jsp'></frameset>").status is Status.UP


@pytest.mark.parametrize(
    "message",
    [
        "An error occurred at line: 12 in the jsp file: /web/view/header.jsp",
        "An error occurred at line: [12] in the jsp file: [/index.jsp]",
        "An exception occurred processing JSP page /index.jsp at line 7",
        "An exception occurred processing [/index.jsp] at line [7]",
    ],
)
def test_jasper_messages_without_exception_class_are_down(message: str) -> None:
    outcome = jsp(
        f"<html><head><title>Agent Console</title></head><body><p>{message}</p></body></html>"
    )
    assert outcome.status is Status.DOWN
    assert "error" in outcome.reason.lower() or "exception" in outcome.reason.lower()


def test_prose_about_errors_at_a_line_stays_up() -> None:
    body = "<html><title>Help</title><body>If an error occurred, check the log.</body></html>"
    assert jsp(body).status is Status.UP
