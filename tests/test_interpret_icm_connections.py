"""icm-connections: MR/ARM link states from ICMIntegratedConnections.jsp."""

from __future__ import annotations

import pytest

from lbhealth.interpret import Outcome, Rules, interpret
from lbhealth.interpret.icm_connections import connected
from lbhealth.verdict import Status
from tests._cases import answer


def icm(body: str, rules: Rules | None = None, status: int = 200) -> Outcome:
    return interpret("icm-connections", answer(body, status), rules or Rules())


def links(mr: str, arm: str) -> str:
    return (
        "<table><tr><th>Link</th><th>Description</th><th>Status</th></tr>"
        f"<tr><td>MR</td><td>Media Routing (EAAS)</td><td>{mr}</td></tr>"
        f"<tr><td>ARM</td><td>Agent Reporting and Management (Listener)</td><td>{arm}</td></tr>"
        "</table>"
    )


@pytest.mark.parametrize(
    "state",
    ["Connected", "CONNECTED", "connected", " Connected. ", "?Connected?", "Connected to pg1a"],
)
def test_connected_variants_are_connected(state: str) -> None:
    assert connected(state)


@pytest.mark.parametrize(
    "state",
    [
        "Not Connected",
        "Disconnected",
        "Connecting",
        "Reconnecting",
        "Down",
        "Unconnected",
        "",
        "Connection lost",
        "Connected: no",
    ],
)
def test_other_states_are_not_connected(state: str) -> None:
    assert not connected(state)


def test_both_links_connected_is_up() -> None:
    outcome = icm(links("Connected", "Connected"))
    assert outcome.status is Status.UP
    assert [link["name"] for link in outcome.details["links"]] == ["MR", "ARM"]


def test_connecting_link_is_named() -> None:
    assert icm(links("Connecting", "Connected")).reason == "MR link Connecting (not connected)"


def test_not_connected_is_down_although_it_contains_connected() -> None:
    outcome = icm(links("Connected", "Not Connected"))
    assert outcome.reason == "ARM link Not Connected (not connected)"


def test_both_links_down_are_both_named() -> None:
    reason = icm(links("Disconnected", "Down")).reason
    assert "MR link Disconnected" in reason
    assert "ARM link Down" in reason


def test_description_is_kept_in_details() -> None:
    outcome = icm(links("Connected", "Connected"))
    assert outcome.details["links"][0]["description"] == "Media Routing (EAAS)"


@pytest.mark.parametrize(
    "body",
    [
        "<pre>MR : Connected\nARM : Disconnected</pre>",
        "MR Link: Connected<br>ARM Link: Disconnected<br>",
        "MR link is Connected\nARM link is Disconnected\n",
        "<pre>Link: MR\nStatus: Connected\nLink: ARM\nStatus: Disconnected</pre>",
        "<table><tr><td>Disconnected</td><td>ARM</td></tr><tr><td>Connected</td><td>MR</td></tr></table>",
        "<table><tr><td>mr</td><td>38001</td><td>connected</td></tr>"
        "<tr><td>arm</td><td>42027</td><td>DISCONNECTED</td></tr></table>",
    ],
    ids=["pre", "br", "sentences", "key-value", "state-first", "lower-case"],
)
def test_layouts_name_the_disconnected_arm_link(body: str) -> None:
    outcome = icm(body)
    assert outcome.status is Status.DOWN
    assert "arm link disconnected" in outcome.reason.lower()
    states = {link["name"].upper(): link["alive"] for link in outcome.details["links"]}
    assert states == {"MR": True, "ARM": False}


def test_title_alone_is_not_a_link() -> None:
    outcome = icm("<html><head><title>ICM Integrated Connections</title></head></html>")
    assert outcome.reason.startswith("no MR/ARM links listed")


def test_required_link_missing_is_down() -> None:
    body = "<table><tr><td>MR</td><td>Connected</td></tr></table>"
    assert icm(body, Rules(require=("ARM",))).reason == "ARM link not listed"


def test_non_200_is_down() -> None:
    assert icm(links("Connected", "Connected"), status=503).status is Status.DOWN


@pytest.mark.parametrize("heading", [True, False])
def test_status_column_wins_over_an_active_column(heading: bool) -> None:
    head = "<tr><th>Link</th><th>Enabled</th><th>Status</th></tr>" if heading else ""
    body = f"<table>{head}<tr><td>MR</td><td>Active</td><td>Disconnected</td></tr></table>"
    assert icm(body).reason == "MR link Disconnected (not connected)"


def test_empty_state_cell_is_not_connected() -> None:
    outcome = icm(links("Connected", ""))
    assert outcome.status is Status.DOWN
    assert "ARM" in outcome.reason and "MR" not in outcome.reason.replace("ARM", "")


def test_definition_list_layout() -> None:
    outcome = icm("<dl><dt>MR</dt><dd>Connected</dd><dt>ARM</dt><dd>Disconnected</dd></dl>")
    assert outcome.status is Status.DOWN
    assert "ARM" in outcome.reason
