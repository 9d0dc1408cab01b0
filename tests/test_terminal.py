"""What the CLI prints, read by a real terminal emulator (pyte).

A backend page, a state file or a hostile service at ``--url`` may carry
terminal controls: ESC sequences, the 8-bit CSI (U+009B) many terminals obey
like ``ESC [``, bidi overrides. Whatever ``lbhealth probe``, ``status``,
``admin list`` and ``check-config --explain`` print must leave the screen as
it was (nothing cleared, moved or recoloured) and show the text, defused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyte
import pytest

from lbhealth.demo.simserver import Page, SimServer
from tests._admin import ADMIN, TOKEN
from tests._inventory import inventory, node
from tests._process import lbhealth
from tests._servers import BackgroundLoop, Running
from tests.faults import FaultServer, page

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]

#: Clear the screen and paint red (8-bit CSI), then a right-to-left override and an isolate.
HOSTILE = "EA\u009b2J\u009b31mAS \u202eevil\u2066 done"
#: The same with 7-bit escapes, as a service that is not lbhealth could send them.
HOSTILE_7BIT = "EA\x1b[2J\x1b[31mAS \x1b]0;owned\x07 done"
SHOWN = "EA 2J 31mAS"
BIDI = ("\u202e", "\u2066")


def terminal_after(output: str) -> pyte.Screen:
    """A 200x60 terminal that showed a line of its own, then ``output`` (UTF-8, as sent)."""
    screen = pyte.Screen(200, 60)
    stream = pyte.ByteStream(screen)
    stream.feed(b"EARLIER OUTPUT\r\n")
    stream.feed(output.encode().replace(b"\n", b"\r\n"))
    return screen


def assert_intact(output: str, shown: str = SHOWN) -> None:
    """Nothing cleared or recoloured, the defused text visible, no bidi control printed."""
    screen = terminal_after(output)
    display = "\n".join(line.rstrip() for line in screen.display)
    assert display.startswith("EARLIER OUTPUT"), display
    assert shown in display, display
    painted = {(c.fg, c.bg, c.reverse) for row in screen.buffer.values() for c in row.values()}
    assert painted <= {("default", "default", False)}, painted
    assert not any(mark in output for mark in BIDI)


def hostile_page(title: str = HOSTILE) -> Page:
    body = f"<html><head><title>{title}</title></head><body><p>ok</p></body></html>"
    return Page(200, [("Content-Type", "text/html; charset=utf-8")], body.encode())


def test_probe_prints_a_hostile_title_defused(sim: Sim) -> None:
    backend = sim({"/": hostile_page()})
    result = lbhealth("probe", "jsp", backend.url("/"))
    assert result.returncode == 0, result.stderr
    assert_intact(result.stdout)


def test_status_prints_a_hostile_backend_defused(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": Page(500, [("Content-Type", "text/html")], f"<h1>{HOSTILE}</h1>".encode())})
    lb = lbhealth_server(inventory({"web1": node("iis", backend.url("/"), "web")}, **ADMIN))
    result = lbhealth("status", "--url", lb.url)
    assert result.returncode == 1, result.stderr
    assert_intact(result.stdout)


@pytest.fixture
def impostor(bg: BackgroundLoop) -> Iterator[FaultServer]:
    """A service at ``--url`` that is not a well-behaved lbhealth: raw controls in its JSON."""
    web1 = {"node": f"web1{HOSTILE_7BIT}", "status": "DOWN", "reason": HOSTILE + HOSTILE_7BIT}
    pool = {
        "role": "web",
        "status": "DOWN",
        "up": 0,
        "total": 1,
        "nodes": [web1],
        "impact": HOSTILE_7BIT,
        "summary": HOSTILE,
    }
    view = {"status": "DOWN", "summary": HOSTILE_7BIT, "tiers": [{"tier": 1, "roles": [pool]}]}
    view["unassigned"] = []
    entry = {"state": "drain", "reason": HOSTILE_7BIT, "source": "api", "by": HOSTILE}
    as_json = "Content-Type: application/json"
    server = bg.run(
        FaultServer(
            {
                # ensure_ascii=False: the controls go out raw, as such a service would send them.
                "/cluster": page(json.dumps(view, ensure_ascii=False).encode(), as_json),
                "/admin/nodes": page(
                    json.dumps({"nodes": {"web1": entry}}, ensure_ascii=False).encode(), as_json
                ),
            }
        ).start()
    )
    yield server
    bg.run(server.stop())


def test_status_prints_what_a_hostile_service_answers_defused(impostor: FaultServer) -> None:
    result = lbhealth("status", "--url", impostor.url(""))
    assert result.returncode == 1, result.stderr
    assert_intact(result.stdout)
    assert "\x1b" not in result.stdout


def test_admin_list_prints_what_a_hostile_service_answers_defused(impostor: FaultServer) -> None:
    result = lbhealth("admin", "--url", impostor.url(""), "list", env={"LBHEALTH_ADMIN_TOKEN": "x"})
    assert result.returncode == 0, result.stderr
    assert_intact(result.stdout)
    assert "\x1b" not in result.stdout


def test_admin_list_prints_a_hostile_state_file_defused(
    tmp_path: Path, lbhealth_server: Serve
) -> None:
    state_file = tmp_path / "state.json"
    entry = {"state": "drain", "reason": HOSTILE, "by": HOSTILE_7BIT + HOSTILE, "at": 1.0}
    state_file.write_text(json.dumps({"version": 1, "nodes": {"db1": entry}}))
    db = node("tcp", "127.0.0.1:1", "database")
    lb = lbhealth_server(inventory({"db1": db}, **ADMIN, state_file=str(state_file)))
    result = lbhealth("admin", "--url", lb.url, "list", env={"LBHEALTH_ADMIN_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    assert_intact(result.stdout)


def test_check_config_explain_prints_a_hostile_check_name_defused(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    name = json.dumps(HOSTILE)  # a YAML double-quoted scalar: the escapes become the controls
    path.write_text(
        f"nodes:\n  web1:\n    checks:\n      - {{kind: iis, url: 'http://web1/', name: {name}}}\n"
    )
    result = lbhealth("check-config", "--explain", str(path))
    assert result.returncode == 0, result.stderr
    assert_intact(result.stdout)
