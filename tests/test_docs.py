"""The documentation's examples, executed: a page that stops being true fails here.

- every ``yaml`` block of the README and docs/ is an inventory ``lbhealth check-config``
  accepts, and the README's is part of ``examples/inventory.yaml``;
- every ``haproxy`` block passes ``haproxy -c``;
- every ``console`` block (``$ command`` lines and their output) runs against a live
  lbhealth serving ``examples/inventory.yaml`` over the demo's simulated cluster,
  and prints what the page shows (a ``...`` line stands for any lines, ``...``
  within a line for any text);
- every line of a ``sh`` block that talks to lbhealth (``lbhealth``, ``curl``) runs
  against it too and succeeds; the other commands are listed in ``NOT_RUN``, each
  with the reason and the test that covers it instead;
- every string of ``tests/_documented.py`` still appears in the page it was copied from.

The documented addresses (``127.0.0.1:8080`` of the demo, ``10.0.0.50:8080`` and
``lbhealth:8080`` of a deployment, the demo's backends on 8081-8087) are mapped to
the live processes' ports; nothing else is rewritten.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from lbhealth.cli.main import build_parser
from lbhealth.demo.cluster import BACKENDS, FIRST_PORT
from tests._admin import AUTH, TOKEN
from tests._docs import Block, blocks, table
from tests._documented import DOCUMENTED
from tests._poll import wait_ready, wait_until
from tests._process import ROOT, lbhealth, lbhealth_command, running
from tests._servers import free_port, require_tool

EXAMPLE = ROOT / "examples" / "inventory.yaml"
#: First words of ``sh`` lines that the suite does not run, and why.
NOT_RUN = {
    "./dev": "runs the demo or this suite itself",
    "docker": "needs a container engine; tests/test_docker.py replays the image recipe",
    "helm": "needs a cluster; tests/test_helm.py renders and lints the chart",
    "kubectl": "needs a cluster; tests/test_helm.py serves a rendered pod's probes",
    "tmsh": "an F5 command; tests/test_f5.py applies these monitor strings",
    "kill": "signals the server started just before it: test_reload_by_pid_file_example",
    "openapi-python-client": "writes a client package; tests/test_openapi.py generates one from"
    " a live lbhealth's schema and calls it",
}
#: ``lbhealth`` subcommands that the ``sh`` examples do not run, and why.
NOT_RUN_SUBCOMMANDS = {
    "serve": "keeps running; these examples run against a served inventory",
    "demo": "keeps running; these examples run against a served inventory",
    "completion": "installs into the shell's system directories; tests/test_cli_scripts.py"
    " loads the generated scripts into bash",
}


@dataclass
class Live:
    """lbhealth serving the example inventory over the demo's simulated backends."""

    work: Path  # holds inventory.yaml and examples/inventory.yaml, as the docs name them
    env: dict[str, str]
    addresses: dict[str, str]  # documented address -> the live one

    def localise(self, text: str) -> str:
        for documented, live in self.addresses.items():
            text = text.replace(documented, live)
        return text.replace(".venv/bin/lbhealth", "lbhealth")

    def reset(self) -> None:
        """Every node back to its inventory's admin state: each example starts afresh."""
        base = self.localise("http://127.0.0.1:8080")
        for name in httpx.get(f"{base}/admin/nodes", headers=AUTH).json()["nodes"]:
            httpx.delete(f"{base}/admin/nodes/{name}/state", headers=AUTH)

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", self.localise(command)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=self.work,
            env=self.env,
        )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    work = tmp_path_factory.mktemp("docs")
    env = {**os.environ, "LBHEALTH_ADMIN_TOKEN": TOKEN}
    env["PATH"] = f"{Path(lbhealth_command()[0]).parent}:{env['PATH']}"
    env.pop("LBHEALTH_URL", None)
    env.pop("LBHEALTH_CONFIG", None)
    demo_port, port, agent_port = free_port(), free_port(), free_port()
    demo = lbhealth_command("demo", "--port", str(demo_port), "--backends-from", "0")
    with running(demo, work / "demo.log", env) as demo_proc:
        wait_ready(f"http://127.0.0.1:{demo_port}", process=demo_proc)
        # The demo prints where each simulated server listens: "  web1   iis   http://...".
        printed = dict(
            re.findall(
                r"^  (\w+) +\S+ +(?:http://)?(127\.0\.0\.1:\d+)",
                (work / "demo.log").read_text(),
                re.M,
            )
        )
        addresses = {
            f"127.0.0.1:{FIRST_PORT + offset}": printed[name]
            for offset, name in enumerate(BACKENDS)
        }
        for documented in ("127.0.0.1:8080", "10.0.0.50:8080", "lbhealth:8080"):
            addresses[documented] = f"127.0.0.1:{port}"
        addresses["10.0.0.50 9777"] = f"127.0.0.1 {agent_port}"
        text = EXAMPLE.read_text(encoding="utf-8")
        for documented, actual in addresses.items():
            text = text.replace(documented, actual)
        (work / "examples").mkdir()
        for path in (work / "inventory.yaml", work / "examples" / "inventory.yaml"):
            path.write_text(text, encoding="utf-8")
        served_env = {**env, "LBHEALTH_AGENT_PORT": str(agent_port)}
        serve = lbhealth_command("serve", "--config", "inventory.yaml", "--port", str(port))
        with running(serve, work / "serve.log", served_env, work) as proc:
            wait_ready(f"http://127.0.0.1:{port}", process=proc)
            yield Live(work, env, addresses)


def _ids(found: list[Block]) -> list[str]:
    return [block.where for block in found]


YAML = blocks("yaml")


@pytest.mark.parametrize("block", YAML, ids=_ids(YAML))
def test_yaml_example_is_a_valid_inventory(block: Block, tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(block.text, encoding="utf-8")
    result = lbhealth("check-config", str(path), env={"LBHEALTH_CONFIG": ""})
    assert result.returncode == 0, f"{block.where}: {result.stderr}"


def test_readme_inventory_is_part_of_the_example_file() -> None:
    (readme,) = blocks("yaml", [ROOT / "README.md"])
    shown = yaml.safe_load(readme.text)
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert shown["settings"] == example["settings"]
    assert {name: example["nodes"][name] for name in shown["nodes"]} == shown["nodes"]


HAPROXY = blocks("haproxy")
HAPROXY_GLOBALS = """defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:8443
"""


@pytest.mark.parametrize("block", HAPROXY, ids=_ids(HAPROXY))
def test_haproxy_example_passes_haproxy_check(block: Block, tmp_path: Path) -> None:
    binary = require_tool("haproxy")
    section = block.text if block.text.startswith("backend ") else "backend be\n" + block.text
    config = tmp_path / "haproxy.cfg"
    config.write_text(HAPROXY_GLOBALS + section, encoding="utf-8")
    done = subprocess.run(
        [binary, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, f"{block.where}: {done.stdout}{done.stderr}"


def console_steps(block: Block) -> list[tuple[str, list[str]]]:
    """``$ command`` lines of a console block, each with the output lines shown after it."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"{block.where}: output before any command"
            steps[-1][1].append(line)
    return steps


def shows(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is what the page shows: ``...`` lines and ``...`` in lines elide."""
    pattern = ""
    for line in expected:
        if line == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += ".*".join(re.escape(part) for part in line.split("...")) + r"\n"
    return re.fullmatch(pattern, "".join(f"{line}\n" for line in actual)) is not None


CONSOLE = blocks("console")


@pytest.mark.parametrize("block", CONSOLE, ids=_ids(CONSOLE))
def test_console_example_prints_what_the_page_shows(block: Block, live: Live) -> None:
    live.reset()
    for command, expected in console_steps(block):
        if re.search(r"\| *nc ", command):
            require_tool("nc")
        done = live.run(command)
        actual = done.stdout.replace("\r\n", "\n").splitlines()
        assert shows([live.localise(line) for line in expected], actual), (
            f"{block.where}: $ {command}\n--- shown:\n"
            + "\n".join(expected)
            + "\n--- printed:\n"
            + "\n".join(actual)
            + done.stderr
        )


def sh_commands(block: Block) -> list[str]:
    """The commands of a ``sh`` block: continuation lines joined, comments and blanks dropped."""
    joined = block.text.replace("\\\n", " ")
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def not_run_because(command: str) -> str | None:
    words = shlex.split(command, comments=True)
    if words[0] in NOT_RUN:
        return NOT_RUN[words[0]]
    if words[0].endswith("lbhealth") and words[1] in NOT_RUN_SUBCOMMANDS:
        return NOT_RUN_SUBCOMMANDS[words[1]]
    if words[0] == "export" and words[1].endswith("=..."):
        return "a placeholder; the examples run with LBHEALTH_ADMIN_TOKEN set"
    return None


SH = blocks("sh")


@pytest.mark.parametrize("block", SH, ids=_ids(SH))
def test_sh_example_runs(block: Block, live: Live) -> None:
    live.reset()
    ran = 0
    for command in sh_commands(block):
        if not_run_because(command) is not None:
            continue
        done = live.run(command)
        assert done.returncode == 0, f"{block.where}: {command}\n{done.stdout}{done.stderr}"
        ran += 1
    assert ran or all(not_run_because(c) for c in sh_commands(block))


def test_every_command_the_docs_show_is_run_or_said_why_not() -> None:
    first_words = {
        shlex.split(command, comments=True)[0] for block in SH for command in sh_commands(block)
    }
    runnable = {"curl", "lbhealth", ".venv/bin/lbhealth", "export"}
    assert first_words <= runnable | set(NOT_RUN), first_words - runnable - set(NOT_RUN)
    # No stale reason: every listed command still appears in the docs.
    assert set(NOT_RUN) <= first_words


@pytest.mark.parametrize("page", sorted(DOCUMENTED))
def test_documented_strings_still_appear_in_their_page(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    missing = [literal for literal in DOCUMENTED[page] if literal not in text]
    assert missing == []


def test_the_example_runs_with_nodes_up(live: Live) -> None:
    """A newcomer serving the example inventory next to the demo sees UP nodes."""
    nodes = httpx.get(live.localise("http://127.0.0.1:8080/nodes")).json()["nodes"]
    assert {n["node"]: n["status"] for n in nodes} == {
        "web1": "UP",
        "web2": "DOWN",
        "app1": "UP",
        "app2": "DOWN",
        "msg1": "UP",
        "svc1": "DOWN",
        "db1": "UP",
        "file1": "UP",
    }


SERVICE_UNITS = [block for block in blocks("ini") if "[Service]" in block.text]


@pytest.mark.parametrize("unit", SERVICE_UNITS, ids=_ids(SERVICE_UNITS))
def test_systemd_unit_example_runs_serve_and_reloads_with_sighup(unit: Block) -> None:
    service = configparser.ConfigParser(interpolation=None)
    service.optionxform = str  # type: ignore[assignment,method-assign]
    service.read_string(unit.text)
    start = shlex.split(service["Service"]["ExecStart"])
    assert Path(start[0]).name == "lbhealth" and start[1] == "serve"
    assert build_parser().parse_args(start[1:]).config == "/etc/lbhealth/inventory.yaml"
    assert service["Service"]["ExecReload"] == "/bin/kill -HUP $MAINPID"


def test_reload_by_pid_file_example(live: Live) -> None:
    """The two lines of the pid-file example, run a moment apart, as an operator would."""
    (block,) = [b for b in SH if "lbhealth.pid" in b.text]
    start, reload = sh_commands(block)
    port = free_port()
    log = live.work / "pid-example.log"
    with log.open("wb") as out:
        subprocess.run(
            ["bash", "-c", start.replace("--port 8080", f"--port {port}")],
            cwd=live.work,
            env=live.env,
            stdout=out,
            stderr=out,
            timeout=30,
            check=True,
        )
    pid = int((live.work / "lbhealth.pid").read_text())
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        assert live.run(reload).returncode == 0
        wait_until(lambda: "config reloaded" in log.read_text())
        assert Path(f"/proc/{pid}").exists()  # reloaded, not stopped
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid))


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True


def test_probe_exit_codes_are_as_documented(live: Live) -> None:
    (row,) = [r for r in table(ROOT / "docs/operations.md", "command") if "probe" in r[0]]
    assert row[1] == "0 UP; 1 DOWN (the reason is printed); 2 bad usage"
    up = live.run("lbhealth probe jboss http://127.0.0.1:8083/")  # the demo's app1
    down = live.run("lbhealth probe iis http://127.0.0.1:8082/")  # web2: app pool stopped
    bad = live.run("lbhealth probe jsp http://127.0.0.1:8083/ --expect '('")
    assert (up.returncode, down.returncode, bad.returncode) == (0, 1, 2)
    assert "reason: HTTP 503 from HTTP.sys" in down.stdout
