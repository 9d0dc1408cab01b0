"""rmi-objects: parsing listrmiobjects.jsp in its many layouts, and judging the processes."""

from __future__ import annotations

import pytest

from lbhealth.interpret import Outcome, Rules, interpret
from lbhealth.interpret.rmi_objects import alive
from lbhealth.text.clean import MAX_REASON
from lbhealth.verdict import Status
from tests._cases import answer


def rmi(
    body: str | bytes, rules: Rules | None = None, status: int = 200, truncated: bool = False
) -> Outcome:
    return interpret("rmi-objects", answer(body, status, truncated=truncated), rules or Rules())


def table(*rows: tuple[str, str]) -> str:
    cells = "".join(f"<tr><td>{name}</td><td>{state}</td></tr>\n" for name, state in rows)
    heading = "<tr><th>Process Name</th><th>Status</th></tr>"
    return f"<html><body><table>{heading}\n{cells}</table></body></html>"


@pytest.mark.parametrize(
    "state",
    [
        "Remote Object is Alive",
        "REMOTE OBJECT IS ALIVE",
        "remote object is alive",
        "  Remote   Object\tis Alive ",
        "?Remote Object is Alive?",
        '"Remote Object is Alive"',
        "'Remote Object is Alive'",
        "\u201cRemote Object is Alive\u201d",
        "\u2018Remote Object is Alive\u2019",
        "\ufffdRemote Object is Alive\ufffd",
        "Remote\u00a0Object\u00a0is\u00a0Alive",
        "Remote Object is Alive.",
    ],
)
def test_alive_state_variants_are_alive(state: str) -> None:
    assert alive(state) is True


@pytest.mark.parametrize("state", ["NA", "N/A", "na", "?NA?", "\u201cN/A\u201d", "n / a", " NA "])
def test_na_variants_are_ignored(state: str) -> None:
    assert alive(state) is None


@pytest.mark.parametrize(
    "state",
    [
        "Remote Object is Not Alive",
        "Not Alive",
        "java.rmi.ConnectException: Connection refused to host: 10.0.0.5",
        "java.rmi.NotBoundException: EAAS",
        "",
        "Unknown",
        "Not Applicable",
        "Remote Object is Alive: no (connection refused)",
    ],
)
def test_other_states_are_dead(state: str) -> None:
    assert alive(state) is False


@pytest.mark.parametrize("entity", ["&nbsp;", "&#160;", "&#xA0;", "&quot;", "&#8220;", "&#63;"])
def test_entities_around_alive_state_are_tolerated(entity: str) -> None:
    outcome = rmi(table(("DX", f"{entity}Remote Object is Alive{entity}")))
    assert outcome.status is Status.UP


def test_dead_process_is_named_with_its_state() -> None:
    outcome = rmi(table(("DX", "Remote Object is Alive"), ("EAAS", "Remote Object is Not Alive")))
    assert outcome.status is Status.DOWN
    assert outcome.reason == "EAAS not alive (Remote Object is Not Alive)"


def test_nested_rmi_exception_is_shortened_to_its_first_sentence() -> None:
    state = (
        "java.rmi.ConnectException: Connection refused to host: 10.0.0.5; nested exception is:"
        "<br>&nbsp;&nbsp;java.net.ConnectException: Connection refused: connect"
    )
    outcome = rmi(table(("EAAS", state)))
    assert outcome.reason == (
        "EAAS not alive (java.rmi.ConnectException: Connection refused to host: 10.0.0.5)"
    )


def test_many_dead_processes_are_all_named_within_the_reason_limit() -> None:
    names = [f"Process{i:02d}" for i in range(12)]
    long_state = "java.rmi.ConnectException: Connection refused to host: 10.0.0.5 " + "x" * 200
    outcome = rmi(table(*((n, long_state) for n in names)))
    assert len(outcome.reason) <= MAX_REASON
    for name in names:
        assert name in outcome.reason


def test_details_list_every_process_with_alive_flag() -> None:
    outcome = rmi(table(("DX", "Remote Object is Alive"), ("Archive", "NA"), ("RX", "Dead")))
    assert [(p["name"], p["alive"]) for p in outcome.details["processes"]] == [
        ("DX", True),
        ("Archive", None),
        ("RX", False),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "<html><body><pre>\nDX : Remote Object is Alive\nRX : Remote Object is Alive\n</pre>",
        "<html><body>DX - Remote Object is Alive<br>RX - Remote Object is Alive<br></body></html>",
        "<html><body>DX Remote Object is Alive<BR/>RX Remote Object is Alive</body></html>",
        "DX = Remote Object is Alive\nRX | Remote Object is Alive\n",
        "<p>DX\u2014Remote Object is Alive</p><p>RX \u2013 Remote Object is Alive</p>",
        "<ul><li>1. DX: Remote Object is Alive</li><li>2. RX: Remote Object is Alive</li></ul>",
        "<table><tr><td>DX : Remote Object is Alive<br>RX : Remote Object is Alive</table>",
        "<table><tr><td>1</td><td>DX : Remote Object is Alive</td></tr>"
        "<tr><td>2</td><td>RX : Remote Object is Alive</td></tr></table>",
        "<table><tr><th>DX</th><td>Remote Object is Alive</td></tr>"
        "<tr><th>RX</th><td>Remote Object is Alive</td></tr></table>",
        "<table><tr><td>Remote Object is Alive</td><td>DX</td></tr>"
        "<tr><td>Remote Object is Alive</td><td>RX</td></tr></table>",
        "<table><tr><td>DX<td>Remote Object is Alive<tr><td>RX<td>Remote Object is Alive</table>",
    ],
    ids=[
        "pre",
        "br-dash",
        "br-space",
        "plain-eq-pipe",
        "dashes",
        "numbered-list",
        "one-cell",
        "index-column",
        "th-names",
        "state-first",
        "unclosed-cells",
    ],
)
def test_layouts_are_read(body: str) -> None:
    outcome = rmi(body)
    assert outcome.status is Status.UP, outcome.reason
    assert [p["name"] for p in outcome.details["processes"]] == ["DX", "RX"]


def test_heading_maps_columns_when_state_is_unusual() -> None:
    body = (
        "<table><tr><th>Host</th><th>Process</th><th>State</th></tr>"
        "<tr><td>svc01</td><td>DX</td><td>Remote Object is Alive</td></tr>"
        "<tr><td>svc01</td><td>EAAS</td><td>Timeout</td></tr></table>"
    )
    outcome = rmi(body)
    assert outcome.reason == "EAAS not alive (Timeout)"


def test_unusual_state_in_the_state_column_of_an_unheaded_table_is_dead() -> None:
    body = (
        "<table><tr><td>DX</td><td>Remote Object is Alive</td></tr>"
        "<tr><td>EAAS</td><td>Unknown</td></tr>"
        "<tr><td>RX</td><td>Remote Object is Alive</td></tr></table>"
    )
    assert rmi(body).reason == "EAAS not alive (Unknown)"


def test_total_row_is_not_a_process() -> None:
    body = table(("DX", "Remote Object is Alive")).replace(
        "</table>", "<tr><td>Total</td><td>1</td></tr></table>"
    )
    assert rmi(body).status is Status.UP


@pytest.mark.parametrize(
    "body",
    [
        "<html><body><h3>RMI Objects</h3><p>No remote objects are registered.</p></body></html>",
        table(),
        "",
        "<html><head><title>Cisco Interaction Manager - Login</title></head><body></body></html>",
    ],
)
def test_nothing_listed_is_down(body: str) -> None:
    outcome = rmi(body)
    assert outcome.status is Status.DOWN
    assert outcome.reason.startswith("no processes listed")


def test_only_na_rows_is_down() -> None:
    assert rmi(table(("Archive", "NA"))).status is Status.DOWN


def test_required_process_missing_is_down() -> None:
    outcome = rmi(table(("DX", "Remote Object is Alive")), Rules(require=("EAAS",)))
    assert outcome.reason == "EAAS not listed"


def test_required_process_is_matched_case_insensitively() -> None:
    outcome = rmi(table(("eaas", "Remote Object is Alive")), Rules(require=("EAAS",)))
    assert outcome.status is Status.UP


def test_required_process_that_is_na_is_down() -> None:
    outcome = rmi(table(("DX", "Remote Object is Alive"), ("EAAS", "NA")), Rules(require=("EAAS",)))
    assert outcome.reason == "EAAS not alive (NA)"


def test_body_cut_by_prober_is_down_even_when_all_rows_alive() -> None:
    outcome = rmi(table(("DX", "Remote Object is Alive")), truncated=True)
    assert outcome.status is Status.DOWN
    assert "cut off" in outcome.reason


def test_unclosed_table_is_down() -> None:
    body = "<table><tr><td>DX</td><td>Remote Object is Alive</td></tr>"
    assert "cut off" in rmi(body).reason


def test_page_closed_after_its_table_is_judged_even_without_closing_html() -> None:
    body = "<html><body>" + table(("DX", "Remote Object is Alive")).split("<html><body>")[1]
    assert rmi(body.replace("</body></html>", "")).status is Status.UP


def test_non_200_is_down_with_status() -> None:
    outcome = rmi(table(("DX", "Remote Object is Alive")), status=500)
    assert outcome.reason.startswith("HTTP 500, expected 200")


def test_cp1252_quotes_in_a_utf8_declared_body_are_tolerated() -> None:
    body = b"<table><tr><td>DX</td><td>\x93Remote Object is Alive\x94</td></tr></table>"
    assert rmi(body).status is Status.UP


@pytest.mark.parametrize("empty", ["", "&nbsp;", " \t ", "<span></span>"])
def test_empty_state_cell_is_dead_and_named(empty: str) -> None:
    outcome = rmi(table(("DX", "Remote Object is Alive"), ("RX", empty), ("EAAS", "NA")))
    assert outcome.status is Status.DOWN
    assert "RX" in outcome.reason


def test_empty_state_cell_without_heading_uses_the_other_rows_state_column() -> None:
    rows = "<tr><td>DX</td><td>Remote Object is Alive</td></tr><tr><td>Listener</td><td></td></tr>"
    outcome = rmi(f"<table>{rows}</table>")
    assert outcome.status is Status.DOWN
    assert "Listener" in outcome.reason


def test_layout_row_with_one_cell_is_not_an_item() -> None:
    body = table(("DX", "Remote Object is Alive")).replace(
        "<table>", "<table><tr><td colspan=2>RMI Objects on node 1</td></tr>"
    )
    assert rmi(body).status is Status.UP


@pytest.mark.parametrize(
    "body",
    [
        "<dl><dt>DX</dt><dd>Remote Object is Alive</dd>"
        "<dt>EAAS</dt><dd>Remote Object is Not Alive</dd></dl>",
        "<pre>DX\nRemote Object is Alive\nEAAS\nRemote Object is Not Alive\n</pre>",
        "<p><b>DX</b></p><p>Remote Object is Alive</p><p><b>EAAS</b></p><p>Not Alive</p>",
    ],
)
def test_name_line_followed_by_state_line_is_one_item(body: str) -> None:
    outcome = rmi(body)
    assert outcome.status is Status.DOWN
    assert "EAAS" in outcome.reason and "DX" not in outcome.reason


def test_state_line_after_unrelated_text_is_not_paired_with_a_heading() -> None:
    body = (
        "<h3>RMI Objects</h3><p>Checked every 30 s, see the log for details.</p>"
        "<p>Remote Object is Alive</p>"
    )
    assert rmi(body).status is Status.DOWN  # no named process: nothing listed
