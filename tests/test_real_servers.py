"""Real Tomcat and Jetty pages: root causes named first, stack traces in comments found.

``tests/pages/*tomcat10*`` and ``*jetty94*`` were captured from Debian's
``tomcat10`` (Tomcat 10.1) and ``jetty9`` (Jetty 9.4) serving the JSPs in
``tests/webapp`` (see each ``expect.json``'s ``source``). The last test runs a
real Tomcat serving those JSPs and probes it with lbhealth.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lbhealth.interpret import Answer, Rules, interpret
from tests._cases import OWN_PAGES, Case, case_dirs, load_case
from tests._inventory import inventory, node
from tests._poll import wait_get
from tests._servers import IN_CI, Running, free_port

Serve = Callable[[dict[str, Any]], Running]
WEBAPP = Path(__file__).resolve().parent / "webapp"
TOMCAT_HOME = Path("/usr/share/tomcat10")
_EXCEPTION = re.compile(r"(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)\b")

ROOT_CAUSE_CASES = [c for c in map(load_case, case_dirs(OWN_PAGES)) if "root_cause" in c.expect]


def reason_of(case: Case) -> str:
    answer = Answer(case.status, case.headers, case.body)
    return interpret(case.expect["kind"], answer, Rules()).reason


def test_there_are_root_cause_cases_from_both_servers() -> None:
    names = [c.name for c in ROOT_CAUSE_CASES]
    assert any("tomcat10" in n for n in names) and any("jetty94" in n for n in names)


@pytest.mark.parametrize("case", ROOT_CAUSE_CASES, ids=lambda c: c.name)
def test_the_root_cause_is_the_first_exception_named(case: Case) -> None:
    reason = reason_of(case)
    assert _EXCEPTION.findall(reason)[:1] == [case.expect["root_cause"]], reason


@pytest.fixture(scope="module")
def tomcat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Tomcat 10.1 (Debian's ``tomcat10``) serving ``tests/webapp`` as its root, on loopback."""
    catalina = TOMCAT_HOME / "bin" / "catalina.sh"
    if not catalina.is_file():
        message = "Debian package tomcat10 is not installed (./dev test installs it as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    base = tmp_path_factory.mktemp("tomcat")
    for name in ("conf", "logs", "temp", "work", "webapps"):
        (base / name).mkdir()
    shutil.copy(TOMCAT_HOME / "etc" / "web.xml", base / "conf" / "web.xml")
    shutil.copytree(WEBAPP, base / "webapps" / "ROOT")
    port = free_port()
    (base / "conf" / "server.xml").write_text(
        '<Server port="-1" shutdown="SHUTDOWN"><Service name="Catalina">'
        f'<Connector port="{port}" address="127.0.0.1" protocol="HTTP/1.1"/>'
        '<Engine name="Catalina" defaultHost="localhost">'
        '<Host name="localhost" appBase="webapps" autoDeploy="false"/>'
        "</Engine></Service></Server>"
    )
    env = {**os.environ, "CATALINA_HOME": str(TOMCAT_HOME), "CATALINA_BASE": str(base)}
    log = (base / "logs" / "console.out").open("wb")
    process = subprocess.Popen(
        [str(catalina), "run"], env=env, stdout=log, stderr=log, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:  # should Tomcat exit, its logs/console.out says why
        wait_get(f"{url}/ok.jsp", lambda r: r.status_code == 200, deadline=90, process=process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()


def test_lbhealth_reads_a_real_tomcat_right(tomcat: str, lbhealth_server: Serve) -> None:
    pages = {"ok": "/ok.jsp", "thrown": "/throw.jsp", "caught": "/caught.jsp"}
    nodes = {n: node("jsp", tomcat + p) for n, p in pages.items()}
    lb = lbhealth_server(inventory(nodes, timeout=20, interval=60))
    seen = {n["node"]: n for n in httpx.get(f"{lb.url}/nodes", timeout=10).json()["nodes"]}
    assert seen["ok"]["status"] == "UP", seen["ok"]["reason"]
    assert seen["thrown"]["reason"].startswith(
        "jsp: HTTP 500, expected 200: java.lang.NullPointerException"
    )
    assert seen["caught"]["reason"] == (
        "jsp: page carries java.sql.SQLException: Connection refused: connect in an HTML comment"
    )
