"""Rise/fall: the pure state machine, and one node served through it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lbhealth.core.flap import Flap, FlapState, step
from lbhealth.demo.cluster import JBOSS_WELCOME
from lbhealth.demo.simserver import SimServer
from lbhealth.verdict import CheckResult, Status
from tests._cases import own_page
from tests._inventory import inventory, node
from tests._servers import Running

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]
UP, DOWN = Status.UP, Status.DOWN
JBOSS_ERROR_200 = own_page("jboss-jbossweb-error-report-with-200")


def run(raws: list[Status], rise: int, fall: int) -> list[Status]:
    state: FlapState | None = None
    seen = []
    for raw in raws:
        state = step(state, raw, rise, fall)
        seen.append(state.status)
    return seen


@pytest.mark.parametrize(
    ("raws", "rise", "fall", "effective"),
    [
        ([DOWN], 3, 3, [DOWN]),  # the first result sets the state directly
        ([UP, DOWN, UP, DOWN], 1, 1, [UP, DOWN, UP, DOWN]),  # default: no smoothing
        ([UP, DOWN, UP, DOWN, DOWN], 1, 2, [UP, UP, UP, UP, DOWN]),  # an UP resets the streak
        ([UP, DOWN, DOWN, DOWN], 1, 3, [UP, UP, UP, DOWN]),
        ([DOWN, UP, UP, DOWN, UP], 2, 1, [DOWN, DOWN, UP, DOWN, DOWN]),
    ],
)
def test_step_needs_consecutive_results(
    raws: list[Status], rise: int, fall: int, effective: list[Status]
) -> None:
    assert run(raws, rise, fall) == effective


def result(status: Status, reason: str) -> CheckResult:
    return CheckResult("jboss", "jboss", "http://app1/", status, reason, 0.01, 1.0)


def test_held_result_keeps_state_and_says_why() -> None:
    flap = Flap()
    key = ("app1", "jboss")
    flap.apply(key, 1, 2, result(UP, "welcome page"))
    held = flap.apply(key, 1, 2, result(DOWN, "HTTP 500"))
    assert held.status is UP
    assert held.reason == "welcome page (DOWN 1 of 2 needed)"
    assert held.details["latest_reason"] == "HTTP 500"
    assert flap.apply(key, 1, 2, result(DOWN, "HTTP 500")).reason == "HTTP 500"


def test_node_with_fall_2_survives_one_failed_probe(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": JBOSS_WELCOME})
    app1 = node("jboss", backend.url(), rise=2, fall=2)
    lb = lbhealth_server(inventory({"app1": app1}, mode="on-demand", cache_ttl="1ms"))

    def health() -> tuple[int, str]:
        response = httpx.get(f"{lb.url}/health/app1")
        return response.status_code, response.text

    backend.pages["/"] = JBOSS_ERROR_200
    hits = backend.hits["/"]
    assert health() == (200, "UP\n")  # one failed probe: held UP
    down = health()
    assert down[0] == 503 and down[1].startswith("DOWN: jboss: ")
    backend.pages["/"] = JBOSS_WELCOME
    recovering = health()
    assert recovering[0] == 503 and recovering[1].endswith("(UP 1 of 2 needed)\n")
    assert health() == (200, "UP\n")
    assert backend.hits["/"] == hits + 4  # every request above was one real probe
