"""A bad admin state file: refused or repaired with a clear log line, never served raw.

Anyone who can write the state file's directory can put anything there. A
running lbhealth (real uvicorn) reads it at start and follows it; its answers
must stay small, valid JSON, and the file's text must reach nobody raw.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lbhealth.config import ConfigError, parse_inventory
from lbhealth.store.admin import AdminStore
from lbhealth.store.entries import MAX_OPERATOR
from lbhealth.store.state_file import MAX_STATE_FILE, read_state_file
from tests._admin import ADMIN, AUTH
from tests._inventory import inventory, node
from tests._poll import wait_until
from tests._servers import Running

Serve = Callable[[dict[str, Any]], Running]
DB = node("tcp", "127.0.0.1:1", "database")


def write(path: Path, nodes: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"version": 1, "nodes": nodes}))
    return path


def with_state_file(state_file: Path) -> dict[str, Any]:
    """An inventory of db1 whose admin states are kept in ``state_file``."""
    return inventory({"db1": DB}, **ADMIN, state_file=str(state_file))


def test_a_nan_time_is_dropped_and_every_view_still_answers(
    tmp_path: Path, lbhealth_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    state_file = write(tmp_path / "state.json", {"db1": {"state": "maint", "at": float("nan")}})
    assert "NaN" in state_file.read_text()
    with caplog.at_level(logging.WARNING, logger="lbhealth.admin"):
        lb = lbhealth_server(with_state_file(state_file))
    for path in ("/nodes", "/health/db1?format=json", "/admin/nodes"):
        response = httpx.get(lb.url + path, headers=AUTH, timeout=10)
        assert response.status_code in (200, 503), (path, response.text)
        assert "NaN" not in response.text
    assert httpx.get(f"{lb.url}/admin/nodes", headers=AUTH).json()["nodes"]["db1"]["at"] is None
    assert "nodes.db1.at: 'nan' is not a time; dropped" in caplog.text


@pytest.mark.parametrize(
    ("entry", "repaired"),
    [
        ({"state": "drain", "reason": 12}, {"reason": ""}),
        ({"state": "drain", "by": ["root"]}, {"by": "unknown"}),
        ({"state": "drain", "by": "x" * 150_000}, {"by": "x" * (MAX_OPERATOR - 3) + "..."}),
        ({"state": "drain", "by": "EA\u009b2J\u202eAS"}, {"by": "EA 2J AS"}),
        ({"state": "drain", "at": "yesterday"}, {"at": None}),
        ({"state": "drain", "at": 1e300}, {"at": None}),
        ({"state": "drain", "at": True}, {"at": None}),
    ],
    ids=["reason-number", "by-list", "by-150kb", "by-controls", "at-text", "at-huge", "at-bool"],
)
def test_fields_that_do_not_fit_are_repaired_on_reading(
    entry: dict[str, Any],
    repaired: dict[str, Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    state_file = write(tmp_path / "state.json", {"db1": entry})
    with caplog.at_level(logging.WARNING, logger="lbhealth.admin"):
        entries = read_state_file(state_file)
    shown = entries["db1"].to_json()
    assert {key: shown[key] for key in repaired} == repaired
    assert shown["state"] == "drain"
    assert "state file repaired on reading" in caplog.text


def test_a_huge_operator_name_is_served_bounded(tmp_path: Path, lbhealth_server: Serve) -> None:
    state_file = write(tmp_path / "state.json", {"db1": {"state": "drain", "by": "x" * 900_000}})
    lb = lbhealth_server(with_state_file(state_file))
    nodes = httpx.get(f"{lb.url}/nodes", timeout=10)
    assert nodes.json()["nodes"][0]["admin"]["by"] == "x" * (MAX_OPERATOR - 3) + "..."
    assert len(nodes.content) < 2_000


def test_invalid_node_names_are_skipped(tmp_path: Path) -> None:
    state_file = write(
        tmp_path / "state.json", {"db1": {"state": "maint"}, "../x\u009b": {"state": "maint"}}
    )
    assert list(read_state_file(state_file)) == ["db1"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"nodes": {"db1": {"state": "maint", "by": "' + "x" * MAX_STATE_FILE + '"}}}', "larger"),
        ("[" * 200_000, "unreadable state file"),
    ],
    ids=["over-1MiB", "deeply-nested"],
)
def test_a_file_too_big_or_too_deep_is_refused_at_start(
    content: str, message: str, tmp_path: Path
) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(content)
    with pytest.raises(ConfigError, match=message):
        AdminStore(parse_inventory(with_state_file(state_file)))


def test_a_file_grown_too_big_is_refused_and_the_states_in_memory_keep_serving(
    tmp_path: Path, lbhealth_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    state_file = write(tmp_path / "state.json", {"db1": {"state": "maint", "reason": "patch"}})
    lb = lbhealth_server(with_state_file(state_file))
    with caplog.at_level(logging.WARNING, logger="lbhealth.admin"):
        write(state_file, {"db1": {"state": "enabled", "by": "y" * (2 * MAX_STATE_FILE)}})
        wait_until(lambda: caplog.text, lambda text: "larger than" in text)
    assert httpx.get(f"{lb.url}/health/db1", timeout=10).text == "MAINT: patch\n"
