"""The command line as scripts use it: JSON output, distinct exit codes, shell completion.

Every command runs as a real subprocess; ``status`` and ``admin`` talk to a real
lbhealth; completion scripts are loaded into a real bash.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._admin import ADMIN, TOKEN
from tests._inventory import inventory, node
from tests._process import lbhealth
from tests._servers import Running, free_port

Sim = Callable[..., SimServer]
Serve = Callable[..., Running]

BAD = """\
settings:
  timeout: soon
nodes:
  app1.example:
    role: application
    checks:
      - kind: jboss
        url: app1:9001
  db1:
    role: database
"""


def check_config_json(path: Path) -> tuple[int, dict[str, Any]]:
    result = lbhealth("check-config", "--format", "json", str(path))
    assert result.stderr == ""
    return result.returncode, json.loads(result.stdout)


def test_check_config_json_summary() -> None:
    result = lbhealth("check-config", "--format", "json", "examples/inventory.yaml")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "ok": True,
        "source": "examples/inventory.yaml",
        "nodes": 8,
        "checks": 11,
        "roles": ["application", "database", "file", "messaging", "services", "web"],
    }


def test_check_config_json_gives_each_error_its_path_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(BAD)
    code, report = check_config_json(path)
    assert code == 2 and report["ok"] is False and report["source"] == str(path)
    lines = BAD.splitlines()
    found = {e["path"]: e for e in report["errors"]}
    assert set(found) == {
        "settings.timeout",
        "nodes.app1.example.checks[0].url",
        "nodes.db1.checks",
    }
    url = found["nodes.app1.example.checks[0].url"]
    assert "is not an http(s) URL" in url["message"]
    # The value itself: line 8, where "app1:9001" starts.
    assert (url["line"], url["column"]) == (8, lines[7].index("app1:9001") + 1)
    timeout = found["settings.timeout"]
    assert (timeout["line"], timeout["column"]) == (2, lines[1].index("soon") + 1)
    # A missing field points at the node that lacks it.
    missing = found["nodes.db1.checks"]
    assert missing["message"] == "required field is missing"
    assert (missing["line"], missing["column"]) == (9, 3)


def test_check_config_json_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("nodes:\n  app1: [\n")
    code, report = check_config_json(broken)
    assert code == 2
    (error,) = report["errors"]
    assert error["path"] is None and error["message"].startswith("invalid YAML: ")
    assert error["line"] == 3
    code, report = check_config_json(tmp_path / "nope.yaml")
    assert code == 2
    assert report["errors"] == [
        {
            "path": None,
            "message": f"{tmp_path / 'nope.yaml'}: no such file",
            "line": None,
            "column": None,
        }
    ]


def test_check_config_json_locates_preset_errors(tmp_path: Path) -> None:
    path = tmp_path / "preset.yaml"
    path.write_text(
        "preset: eim-wim\ncluster:\n  web:\n    - web1.example.com\n    - 'bad host!'\n"
    )
    code, report = check_config_json(path)
    assert code == 2
    (error,) = report["errors"]
    assert error["path"] == "cluster.web[1]" and (error["line"], error["column"]) == (5, 7)


@pytest.mark.parametrize(
    "args",
    [
        ("check-config", "--format", "yaml", "examples/inventory.yaml"),
        ("check-config", "--format", "json", "--explain", "examples/inventory.yaml"),
        ("status", "--no-such-option"),
        ("no-such-command",),
    ],
)
def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    result = lbhealth(*args)
    assert result.returncode == 2 and "usage: lbhealth" in result.stderr


def test_unreachable_service_exits_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status = lbhealth("status", "--url", url, "--timeout", "2")
    assert status.returncode == 3 and "error: cannot reach" in status.stderr
    admin = lbhealth("admin", "--url", url, "list", env={"LBHEALTH_ADMIN_TOKEN": TOKEN})
    assert admin.returncode == 3 and "cannot reach lbhealth" in admin.stderr


def test_status_json_honours_lbhealth_url(sim: Sim, lbhealth_server: Serve) -> None:
    up, down = sim({"/": IIS_WELCOME}), sim({"/": IIS_APPPOOL_STOPPED})
    nodes = {"web1": node("iis", up.url(), "web"), "web2": node("iis", down.url(), "web")}
    lb = lbhealth_server(inventory(nodes, **ADMIN, min_up={"web": 2}))
    result = lbhealth("status", "--format", "json", env={"LBHEALTH_URL": lb.url})
    assert result.returncode == 1, result.stderr  # DOWN: 1 of the 2 web nodes needed
    view = json.loads(result.stdout)
    assert view["status"] == "DOWN" and view["blocked_at"] == {"tier": 5, "roles": ["web"]}
    (pool,) = view["tiers"][0]["roles"]
    assert [(n["node"], n["status"]) for n in pool["nodes"]] == [("web1", "UP"), ("web2", "DOWN")]


def complete(script: str, words: str) -> list[str]:
    """What bash completes for the command line ``words`` (the cursor after its last word)."""
    bash = shutil.which("bash")
    assert bash is not None
    program = (
        f"{script}\n"
        f"COMP_LINE={json.dumps(words)}; COMP_POINT=${{#COMP_LINE}}\n"
        f"read -ra COMP_WORDS <<< {json.dumps(words)}\n"
        + ("COMP_WORDS+=('')\n" if words.endswith(" ") else "")
        + "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "_shtab_lbhealth lbhealth\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run([bash, "-c", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return sorted(w.strip() for w in done.stdout.splitlines() if w.strip())


def test_bash_completion_knows_commands_options_and_choices() -> None:
    generated = lbhealth("completion", "bash")
    assert generated.returncode == 0, generated.stderr
    script = generated.stdout
    assert "status" in complete(script, "lbhealth st")
    assert complete(script, "lbhealth check-config --f") == ["--format"]
    assert complete(script, "lbhealth status --format ") == ["json", "text"]
    assert complete(script, "lbhealth export ") == ["f5", "haproxy"]


@pytest.mark.parametrize("shell", ["zsh", "tcsh"])
def test_other_shells_get_a_script(shell: str) -> None:
    generated = lbhealth("completion", shell)
    assert generated.returncode == 0 and "check-config" in generated.stdout
