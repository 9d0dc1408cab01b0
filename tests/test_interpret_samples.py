"""Every recorded answer (tests/samples and tests/pages) reads as its expect.json says."""

from __future__ import annotations

import pytest

from lbhealth.interpret import INTERPRETERS, Answer, Outcome, Rules, interpret
from tests._cases import OWN_PAGES, SAMPLES, Case, all_cases, case_dirs

CASES = all_cases()


def _outcome(case: Case) -> Outcome:
    return interpret(case.expect["kind"], Answer(case.status, case.headers, case.body), Rules())


def test_the_shared_samples_and_our_pages_are_all_read() -> None:
    names = {case.name for case in CASES}
    for root in (SAMPLES, OWN_PAGES):
        found = {path.name for path in case_dirs(root)}
        assert found and found <= names, root


def test_there_are_cases_for_every_kind_but_http() -> None:
    kinds = {case.expect["kind"] for case in CASES}
    assert kinds == set(INTERPRETERS) - {"http"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_verdict(case: Case) -> None:
    outcome = _outcome(case)
    assert outcome.status.value == case.expect["verdict"], outcome.reason


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_names_every_dead_item_in_reason(case: Case) -> None:
    reason = _outcome(case).reason.lower()
    for name in case.expect.get("dead", []):
        assert name.lower() in reason


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_reports_no_alive_item_as_dead(case: Case) -> None:
    details = _outcome(case).details
    items = [*details.get("processes", []), *details.get("links", [])]
    by_name = {item["name"].lower(): item for item in items}
    for name in case.expect.get("alive", []):
        assert name.lower() in by_name, f"{name} not parsed from {sorted(by_name)}"
        assert by_name[name.lower()]["alive"] is not False
