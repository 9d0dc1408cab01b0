"""Pools, the cluster view, history, the status page (in Chromium) and ``lbhealth status``.

One simulated 2-web, 2-application, 1-messaging, 1-services, 1-database,
1-file cluster on loopback, described with ``preset: eim-wim`` so the service
runs exactly the checks the preset derives; lbhealth under real uvicorn.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lbhealth.demo.cluster import (
    IIS_WELCOME,
    JBOSS_WELCOME,
    JSP_LOGIN,
    JSP_STACK_TRACE,
    RMI_EAAS_DEAD,
)
from lbhealth.demo.simserver import Page, SimServer
from tests._chromium import HEADLESS
from tests._cluster import HOSTILE_JSP, SimCluster
from tests._documented import ICM_JSP as ICM_PATH
from tests._documented import LOGIN_JSP as JSP_PATH
from tests._documented import RMI_JSP as RMI_PATH
from tests._inventory import inventory, node
from tests._poll import wait_until
from tests._process import ROOT as ROOT_DIR
from tests._process import lbhealth_command
from tests._servers import Running, free_port, require_tool

Serve = Callable[[dict[str, Any]], Running]
ARTIFACTS = ROOT_DIR / "test-artifacts"


def test_preset_cluster_probes_the_derived_checks(
    cluster: SimCluster, lbhealth_server: Serve
) -> None:
    lb = lbhealth_server(cluster.inventory())
    nodes = ("db1", "file1", "msg1", "svc1", "app1", "app2", "web1", "web2")
    for name in nodes:
        response = httpx.get(f"{lb.url}/health/{name}")
        assert (response.status_code, response.text) == (200, "UP\n"), name
    # The services' debug JSPs were fetched through the first web server.
    assert cluster.servers["web1"].hits[RMI_PATH] >= 1
    assert cluster.servers["web1"].hits[ICM_PATH] >= 1
    assert cluster.servers["app2"].hits[JSP_PATH] >= 1
    assert cluster.listeners["db1"].accepted >= 1 and cluster.listeners["file1"].accepted >= 1


def test_role_pool_up_with_counts(cluster: SimCluster, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(cluster.inventory())
    response = httpx.get(f"{lb.url}/health/role/application")
    assert response.status_code == 200
    assert response.text == "UP 2/2 application nodes up (min 1)\n"
    assert response.headers["cache-control"] == "no-store"
    assert httpx.head(f"{lb.url}/health/role/web").status_code == 200


def test_role_pool_down_below_min_up(cluster: SimCluster, lbhealth_server: Serve) -> None:
    cluster.servers["app2"].pages[JSP_PATH] = JSP_STACK_TRACE
    lb = lbhealth_server(cluster.inventory(min_up={"application": 2}))
    response = httpx.get(f"{lb.url}/health/role/application")
    assert response.status_code == 503
    assert response.text.startswith("DOWN: 1/2 application nodes up (min 2); app2 DOWN: jsp: ")
    assert "NullPointerException" in response.text and response.text.count("\n") == 1
    body = httpx.get(f"{lb.url}/health/role/application?format=json").json()
    assert (body["status"], body["up"], body["total"], body["min_up"]) == ("DOWN", 1, 2, 2)
    # The default min_up of 1 keeps the web pool UP with one node.
    assert httpx.get(f"{lb.url}/health/role/web").text == "UP 2/2 web nodes up (min 1)\n"


def test_role_pool_degraded_says_so_in_text_as_in_json(
    cluster: SimCluster, lbhealth_server: Serve
) -> None:
    cluster.servers["app2"].pages[JSP_PATH] = JSP_STACK_TRACE
    lb = lbhealth_server(cluster.inventory())  # min_up 1: one of two is enough
    text = httpx.get(f"{lb.url}/health/role/application")
    data = httpx.get(f"{lb.url}/health/role/application?format=json").json()
    assert (text.status_code, data["status"]) == (200, "DEGRADED")
    assert text.text.startswith("DEGRADED 1/2 application nodes up (min 1); app2 DOWN: jsp: ")
    assert text.text.split()[0] == data["status"]


@pytest.mark.parametrize("role", ["nope", "webs", "Web", "role", "%3Cscript%3E"])
def test_unknown_role_is_404(role: str, cluster: SimCluster, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(cluster.inventory())
    response = httpx.get(f"{lb.url}/health/role/{role}")
    assert response.status_code == 404
    assert response.text.startswith("UNKNOWN: no node has role ")


def test_role_without_nodes_is_404(sim: Callable[..., SimServer], lbhealth_server: Serve) -> None:
    web = sim({"/": IIS_WELCOME})
    cluster = {"web": [{"host": "127.0.0.1", "name": "web1", "port": web.port}]}
    lb = lbhealth_server({"preset": "eim-wim", "cluster": cluster})
    assert httpx.get(f"{lb.url}/health/role/web").status_code == 200
    assert httpx.get(f"{lb.url}/health/role/database").status_code == 404


def test_node_named_role_and_pools_coexist(
    sim: Callable[..., SimServer], lbhealth_server: Serve
) -> None:
    up, down = sim({"/": IIS_WELCOME}), sim({"/": JBOSS_WELCOME, "/x.jsp": JSP_STACK_TRACE})
    lb = lbhealth_server(
        inventory(
            {
                "role": node("jsp", down.url("/x.jsp"), "application"),
                "web": node("iis", up.url(), "web"),
            }
        )
    )
    named_role = httpx.get(f"{lb.url}/health/role")
    assert named_role.status_code == 503 and named_role.text.startswith("DOWN: jsp: ")
    assert httpx.get(f"{lb.url}/health/role/web").text == "UP 1/1 web nodes up (min 1)\n"
    pool = httpx.get(f"{lb.url}/health/role/application")
    assert pool.status_code == 503 and pool.text.startswith("DOWN: 0/1 application nodes up")
    assert httpx.get(f"{lb.url}/health/web").text == "UP\n"


def test_cluster_view_text_json_html(cluster: SimCluster, lbhealth_server: Serve) -> None:
    cluster.servers["web1"].pages[RMI_PATH] = RMI_EAAS_DEAD
    lb = lbhealth_server(cluster.inventory())
    text = httpx.get(f"{lb.url}/cluster")
    assert text.status_code == 503 and text.headers["content-type"].startswith("text/plain")
    assert text.text.startswith("CLUSTER DOWN: blocked at tier 4 (0/1 services nodes up (min 1))")
    assert "EAAS" in text.text and "emails not retrieved" in text.text
    for response in (
        httpx.get(f"{lb.url}/cluster?format=json"),
        httpx.get(f"{lb.url}/cluster", headers={"Accept": "application/json"}),
    ):
        data = response.json()
        assert data["blocked_at"] == {"tier": 4, "roles": ["services"]}
        roles = [p["role"] for t in data["tiers"] for p in t["roles"]]
        assert roles == ["database", "file", "messaging", "services", "application", "web"]
    for response in (
        httpx.get(f"{lb.url}/cluster?format=html"),
        httpx.get(f"{lb.url}/cluster", headers={"Accept": "text/html,*/*;q=0.8"}),
    ):
        assert response.headers["content-type"].startswith("text/html")
        assert "blocked at tier 4" in response.text and "ICM integration" in response.text


def test_cluster_up_is_200(cluster: SimCluster, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(cluster.inventory())
    response = httpx.get(f"{lb.url}/cluster?format=json")
    assert response.status_code == 200 and response.json()["status"] == "UP"


def test_history_shows_when_a_node_went_down_and_came_back(
    cluster: SimCluster, lbhealth_server: Serve
) -> None:
    lb = lbhealth_server(cluster.inventory(interval="100ms"))
    app2 = cluster.servers["app2"]

    def history() -> httpx.Response:
        return httpx.get(f"{lb.url}/history/app2")  # probed every 100 ms

    def changes(n: int) -> Callable[[httpx.Response], bool]:
        return lambda r: len(r.json()["history"]) == n

    wait_until(history, changes(1))
    app2.pages[JSP_PATH] = JSP_STACK_TRACE
    wait_until(history, changes(2))
    app2.pages[JSP_PATH] = JSP_LOGIN
    entries = wait_until(history, changes(3)).json()["history"]
    assert [e["status"] for e in entries] == ["UP", "DOWN", "UP"]
    assert "NullPointerException" in entries[1]["reason"] and entries[1]["reason"].startswith(
        "jsp: "
    )
    assert entries[0]["at"] <= entries[1]["at"] <= entries[2]["at"]
    detail = httpx.get(f"{lb.url}/health/app2?format=json").json()
    assert [e["status"] for e in detail["history"]] == ["UP", "DOWN", "UP"]
    assert httpx.get(f"{lb.url}/history/nope").status_code == 404


def test_status_page_shows_nodes_checks_and_escapes(
    cluster: SimCluster, lbhealth_server: Serve
) -> None:
    cluster.servers["app2"].pages[JSP_PATH] = HOSTILE_JSP
    lb = lbhealth_server(cluster.inventory())
    page = wait_until(lambda: httpx.get(f"{lb.url}/"), lambda r: "Changes (1)" in r.text)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<meta http-equiv=refresh content="5">' in html
    # No external assets: no src at all, and the one link is the inline favicon.
    assert "src=" not in html and re.findall(r'href="(.{5})', html) == ["data:"]
    for name in ("db1", "file1", "msg1", "svc1", "app1", "app2", "web1", "web2"):
        assert f'id="node-{name}"' in html
    assert "the chat sessions on that application server are lost" in html


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    binary = require_tool("chromium")
    profile = ARTIFACTS / f"chromium-profile-{os.getpid()}"
    flags = [*HEADLESS, f"--user-data-dir={profile}"]
    try:
        return subprocess.run(
            [binary, *flags, *args], capture_output=True, text=True, timeout=90, check=False
        )
    finally:
        subprocess.run(["rm", "-rf", str(profile)], check=False)


def test_status_page_in_chromium(cluster: SimCluster, lbhealth_server: Serve) -> None:
    cluster.servers["app2"].pages[JSP_PATH] = HOSTILE_JSP
    cluster.servers["web1"].pages[RMI_PATH] = RMI_EAAS_DEAD
    lb = lbhealth_server(cluster.inventory())
    wait_until(lambda: httpx.get(f"{lb.url}/readyz"), lambda r: r.status_code == 200)
    ARTIFACTS.mkdir(exist_ok=True)
    dom = chromium("--dump-dom", f"{lb.url}/")
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    assert 'id="cluster-status"' in rendered and "blocked at tier 4" in rendered
    for name in ("db1", "file1", "msg1", "svc1", "app1", "app2", "web1", "web2"):
        assert f'id="node-{name}"' in rendered
    # The backend's markup arrived as text: Chromium built no <script> element from it.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert rendered.count("<script") == 1 and "alert" not in rendered.split("<script")[1]
    assert "EAAS" in rendered and "active chats" not in rendered
    shot = ARTIFACTS / "status.png"
    shot.unlink(missing_ok=True)
    result = chromium(f"--screenshot={shot}", "--window-size=1280,1600", f"{lb.url}/")
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    phone = ARTIFACTS / "status-phone.png"
    result = chromium(f"--screenshot={phone}", "--window-size=390,1400", f"{lb.url}/")
    assert result.returncode == 0 and phone.stat().st_size > 5_000


def lbhealth_status(
    *args: str, env: dict[str, str] | None = None, tty: bool = False
) -> tuple[int, str]:
    """Run ``lbhealth status`` with stdout a pipe, or a real pseudo-terminal."""
    command = lbhealth_command("status", *args)
    inherited = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment = {**inherited, **(env or {})}
    if not tty:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=30, env=environment, cwd=ROOT_DIR
        )
        return done.returncode, done.stdout + done.stderr
    leader, follower = pty.openpty()
    with subprocess.Popen(
        command, stdout=follower, stderr=follower, env=environment, cwd=ROOT_DIR
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closes when the process exits
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(30)
    os.close(leader)
    return code, b"".join(chunks).decode()


def test_status_command_plain_when_piped(cluster: SimCluster, lbhealth_server: Serve) -> None:
    cluster.servers["web1"].pages[RMI_PATH] = RMI_EAAS_DEAD
    lb = lbhealth_server(cluster.inventory())
    code, out = lbhealth_status("--url", lb.url)
    assert code == 1, out
    assert out.startswith("CLUSTER DOWN: blocked at tier 4") and "\x1b[" not in out
    assert "svc1" in out and "app2" in out and "emails not retrieved" in out


def test_status_command_colours_a_terminal(cluster: SimCluster, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(cluster.inventory())
    code, out = lbhealth_status("--url", lb.url, tty=True)
    assert code == 0, out
    assert "\x1b[1;32mUP\x1b[0m" in out


def test_status_command_respects_no_color(cluster: SimCluster, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(cluster.inventory())
    code, out = lbhealth_status("--url", lb.url, env={"NO_COLOR": "1"}, tty=True)
    assert code == 0, out
    assert "CLUSTER UP" in out and "\x1b[" not in out


def test_status_command_asks_lbhealth_url(cluster: SimCluster, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(cluster.inventory())
    code, out = lbhealth_status(env={"LBHEALTH_URL": lb.url})  # no --url
    assert code == 0, out
    assert out.startswith("CLUSTER UP")


def test_status_command_not_lbhealth_is_exit_3(sim: Callable[..., SimServer]) -> None:
    other = sim({"/cluster": Page(200, [("Content-Type", "application/json")], b"[1, 2]")})
    code, out = lbhealth_status("--url", other.url(""), "--timeout", "2")
    assert code == 3
    assert f"error: {other.url('/cluster')} did not answer a cluster view (HTTP 200)" in out


def test_status_command_unreachable_is_exit_3() -> None:
    port = free_port()
    code, out = lbhealth_status("--url", f"http://127.0.0.1:{port}", "--timeout", "2")
    assert code == 3 and f"error: cannot reach http://127.0.0.1:{port}/cluster" in out
