"""Rules overrides shared by every kind, and the generic ``http`` kind."""

from __future__ import annotations

import re

import pytest

from lbhealth.interpret import INTERPRETERS, Outcome, Rules, interpret
from lbhealth.interpret.http import describe_statuses, listing_interpreter
from lbhealth.interpret.listing import Listing, ListingRules
from lbhealth.verdict import Status
from tests._cases import answer

#: A page every kind reads as healthy: a JBoss welcome title, one live RMI
#: process and one connected ICM link (each kind ignores the other's line).
HEALTHY_FOR_ALL = (
    "<html><head><title>Welcome to JBoss AS</title></head><body>"
    "<pre>DX : Remote Object is Alive\nMR : Connected</pre></body></html>"
)


@pytest.mark.parametrize("kind", sorted(INTERPRETERS))
def test_healthy_page_is_up_for_every_kind(kind: str) -> None:
    assert interpret(kind, answer(HEALTHY_FOR_ALL), Rules()).status is Status.UP


def http(
    body: str = "<html><body>ok</body></html>", status: int = 200, rules: Rules | None = None
) -> Outcome:
    return interpret("http", answer(body, status), rules or Rules())


def test_interpreters_cover_exactly_the_http_kinds() -> None:
    assert set(INTERPRETERS) == {"iis", "jboss", "jsp", "rmi-objects", "icm-connections", "http"}


@pytest.mark.parametrize(("status", "up"), [(200, True), (302, True), (399, True), (404, False)])
def test_http_accepts_2xx_and_3xx(status: int, up: bool) -> None:
    assert (http(status=status).status is Status.UP) is up


def test_http_bad_status_reason_quotes_status_and_expectation() -> None:
    assert http("<title>Gone</title>", 410).reason == "HTTP 410, expected 2xx/3xx: Gone"


@pytest.mark.parametrize("kind", sorted(INTERPRETERS))
def test_expect_status_replaces_the_kind_status_rule(kind: str) -> None:
    outcome = interpret(kind, answer("x", 200), Rules(expect_status=frozenset({204})))
    assert outcome.reason.startswith("HTTP 200, expected 204")


@pytest.mark.parametrize("kind", sorted(INTERPRETERS))
def test_reject_names_pattern_and_what_matched(kind: str) -> None:
    body = HEALTHY_FOR_ALL.replace("</pre>", "</pre>Maintenance mode until 10:00")
    outcome = interpret(kind, answer(body), Rules(reject=re.compile(r"Maintenance mode \S+")))
    assert outcome.reason == "body matches reject /Maintenance mode \\S+/: 'Maintenance mode until'"


@pytest.mark.parametrize("kind", sorted(INTERPRETERS))
def test_expect_not_matching_is_down(kind: str) -> None:
    outcome = interpret(kind, answer(HEALTHY_FOR_ALL), Rules(expect=re.compile("Login")))
    assert outcome.reason == "body does not match expect /Login/"


def test_reject_matching_nothing_visible_shows_context() -> None:
    outcome = http("before-after", rules=Rules(reject=re.compile("(?=after)")))
    assert "before-after" in outcome.reason


@pytest.mark.parametrize(
    ("codes", "text"),
    [
        ({200}, "200"),
        ({200, 302}, "200/302"),
        (set(range(200, 400)), "2xx/3xx"),
        (set(range(200, 300)) | {304}, "2xx/304"),
    ],
)
def test_describe_statuses(codes: set[int], text: str) -> None:
    assert describe_statuses(frozenset(codes)) == text


#: A made-up listing kind: a new one is only its configuration.
PUMPS = ListingRules(
    spec=Listing(
        state_score=lambda cell: 2 if cell.strip().lower() in ("running", "stopped") else 0,
        state_in_line=lambda line: (
            line.lower().find("running") if "running" in line.lower() else -1
        ),
        name_header=re.compile(r"\bpump\b", re.I),
    ),
    key="pumps",
    healthy=lambda state: state.strip().lower() == "running",
    dead=lambda name, state: f"{name} {state}",
    missing="{} not listed",
    nothing="no pumps listed",
    up=lambda ok, _na: f"{ok} pumps running",
)


def pumps(*rows: tuple[str, str]) -> str:
    cells = "".join(f"<tr><td>{name}</td><td>{state}</td></tr>" for name, state in rows)
    return f"<table><tr><th>Pump</th><th>State</th></tr>{cells}</table>"


@pytest.mark.parametrize(
    ("status", "expect_status", "rows", "verdict", "reason"),
    [
        (200, None, [("P1", "Running"), ("P2", "Running")], Status.UP, "2 pumps running"),
        (200, None, [("P1", "Running"), ("P2", "Stopped")], Status.DOWN, "P2 Stopped"),
        (500, None, [("P1", "Running")], Status.DOWN, "HTTP 500, expected 200: Pump State"),
        (500, frozenset({500}), [("P1", "Stopped")], Status.DOWN, "P1 Stopped"),
        (500, frozenset({500}), [("P1", "Running")], Status.UP, "1 pumps running"),
    ],
)
def test_listing_interpreter_judges_the_list_under_every_admitted_status(
    status: int,
    expect_status: frozenset[int] | None,
    rows: list[tuple[str, str]],
    verdict: Status,
    reason: str,
) -> None:
    judge = listing_interpreter(PUMPS)
    outcome = judge(answer(pumps(*rows), status), Rules(expect_status=expect_status))
    assert (outcome.status, outcome.reason) == (verdict, reason)
    assert [p["name"] for p in outcome.details.get("pumps", [])] in ([], [n for n, _ in rows])
