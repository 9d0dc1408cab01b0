"""A real HAProxy in front of real backends, its health checks asking lbhealth.

Every assertion reads HAProxy's own view (``show stat`` on its stats socket)
or counts the requests the backends received through HAProxy's frontend.
State changes are awaited by polling with a bounded deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lbhealth.config import parse_inventory
from lbhealth.demo.cluster import (
    IIS_APPPOOL_STOPPED,
    IIS_WELCOME,
    JBOSS_WELCOME,
    RMI_ALIVE,
    RMI_EAAS_DEAD,
    RMI_PATH,
)
from lbhealth.demo.simserver import Page, SimServer
from lbhealth.lb.export import DetectionTiming, haproxy_config
from tests._admin import ADMIN, set_state
from tests._cases import own_page
from tests._haproxy import HAProxy, run_haproxy, start_haproxy
from tests._inventory import inventory, jboss_node, node
from tests._poll import wait_until
from tests._servers import Running, free_port, require_tool

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]
StartHAProxy = Callable[[str, str], HAProxy]

WORK = "/work"
WORK_PAGE = Page(200, [("Content-Type", "text/plain")], b"served\n")
JBOSS_ERROR_200 = own_page("jboss-jbossweb-error-report-with-200")
RMI_ALL_ALIVE = Page(
    200,
    RMI_EAAS_DEAD.headers,
    b"<html><body><table><tr><th>Process Name</th><th>Status</th></tr>"
    + b"".join(
        f"<tr><td>{p}</td><td>{RMI_ALIVE}</td></tr>".encode()
        for p in ("DX", "RX", "EAAS", "Listener")
    )
    + b"</table></body></html>",
)
#: kind, path checked, healthy page, the realistic failure.
BREAKS = {
    "jboss-error-page": ("jboss", "/", JBOSS_WELCOME, JBOSS_ERROR_200),
    "iis-app-pool-503": ("iis", "/", IIS_WELCOME, IIS_APPPOOL_STOPPED),
    "eaas-dead": ("rmi-objects", RMI_PATH, RMI_ALL_ALIVE, RMI_EAAS_DEAD),
}
CHECK_FORMS = {
    "options-http10": "option httpchk OPTIONS /health/{node}",
    "http-check-send": "option httpchk\n    http-check send meth GET uri /health/{node}",
}
FAST = "inter 200ms fall 1 rise 1"


@pytest.fixture
def haproxy_binary() -> str:
    return require_tool("haproxy")


@pytest.fixture
def haproxy(tmp_path: Path, haproxy_binary: str) -> Iterator[StartHAProxy]:
    binary = haproxy_binary
    running: list[HAProxy] = []

    def start(backends: str, default_backend: str = "be") -> HAProxy:
        instance = start_haproxy(binary, tmp_path, backends, default_backend)
        running.append(instance)
        return instance

    yield start
    for instance in running:
        instance.stop()


def server_line(node: str, backend: SimServer, lb: Running, extra: str = "") -> str:
    return (
        f"    server {node} 127.0.0.1:{backend.port} check addr 127.0.0.1 port {lb.port}"
        f" {FAST}{extra}\n"
    )


def pool_backend(lb: Running, servers: dict[str, SimServer], extra: str = "") -> str:
    """One backend, checks at /health/<server name>, drained (404) servers go NOLB."""
    lines = "".join(server_line(node, s, lb, extra) for node, s in servers.items())
    return (
        "backend be\n    balance roundrobin\n    option httpchk\n"
        "    http-check disable-on-404\n"
        "    http-check send meth GET uri-lf /health/%[srv_name]\n"
        "    http-check expect status 200\n" + lines
    )


def wait_status(proxy: HAProxy, server: str, status: str) -> None:
    wait_until(lambda: proxy.status(server), lambda s: s == status)


def send_traffic(proxy: HAProxy, count: int) -> list[int]:
    with httpx.Client() as client:
        return [client.get(f"{proxy.url}{WORK}").status_code for _ in range(count)]


@pytest.mark.parametrize("form", CHECK_FORMS)
@pytest.mark.parametrize("case", BREAKS)
def test_broken_node_goes_down_and_recovers(
    case: str, form: str, sim: Sim, lbhealth_server: Serve, haproxy: StartHAProxy
) -> None:
    kind, path, healthy, broken = BREAKS[case]
    backend = sim({path: healthy, WORK: WORK_PAGE})
    lb = lbhealth_server(inventory({"node1": node(kind, backend.url(path))}, **ADMIN))
    check = CHECK_FORMS[form].format(node="node1")
    proxy = haproxy(f"backend be\n    {check}\n" + server_line("node1", backend, lb))
    wait_status(proxy, "be/node1", "UP")
    backend.pages[path] = broken
    wait_status(proxy, "be/node1", "DOWN")
    assert send_traffic(proxy, 3) == [503] * 3
    backend.pages[path] = healthy
    wait_status(proxy, "be/node1", "UP")
    assert send_traffic(proxy, 3) == [200] * 3


def test_drained_node_is_nolb_not_down_and_gets_no_new_sessions(
    sim: Sim, lbhealth_server: Serve, haproxy: StartHAProxy
) -> None:
    servers = {n: sim({"/": JBOSS_WELCOME, WORK: WORK_PAGE}) for n in ("app1", "app2")}
    lb = lbhealth_server(inventory({n: jboss_node(s) for n, s in servers.items()}, **ADMIN))
    proxy = haproxy(pool_backend(lb, servers))
    wait_status(proxy, "be/app1", "UP")
    wait_status(proxy, "be/app2", "UP")
    set_state(lb.url, "app1", "drain", "patching")
    wait_status(proxy, "be/app1", "NOLB")
    before = servers["app1"].hits[WORK]
    assert send_traffic(proxy, 20) == [200] * 20
    assert servers["app1"].hits[WORK] == before
    assert proxy.status("be/app1") == "NOLB"  # still not DOWN after the traffic
    set_state(lb.url, "app1", "enabled")
    wait_status(proxy, "be/app1", "UP")
    send_traffic(proxy, 4)
    assert servers["app1"].hits[WORK] == before + 2


def test_maint_takes_node_out(sim: Sim, lbhealth_server: Serve, haproxy: StartHAProxy) -> None:
    servers = {n: sim({"/": JBOSS_WELCOME, WORK: WORK_PAGE}) for n in ("app1", "app2")}
    lb = lbhealth_server(inventory({n: jboss_node(s) for n, s in servers.items()}, **ADMIN))
    proxy = haproxy(pool_backend(lb, servers))
    wait_status(proxy, "be/app2", "UP")
    set_state(lb.url, "app1", "maint", "disk replacement")
    wait_status(proxy, "be/app1", "DOWN")
    assert send_traffic(proxy, 10) == [200] * 10
    assert servers["app1"].hits[WORK] == 0 and servers["app2"].hits[WORK] == 10


def test_traffic_reaches_only_nodes_lbhealth_calls_up(
    sim: Sim, lbhealth_server: Serve, haproxy: StartHAProxy
) -> None:
    pages = {"app1": JBOSS_WELCOME, "app2": JBOSS_ERROR_200, "app3": JBOSS_WELCOME}
    servers = {n: sim({"/": page, WORK: WORK_PAGE}) for n, page in pages.items()}
    lb = lbhealth_server(inventory({n: jboss_node(s) for n, s in servers.items()}, **ADMIN))
    proxy = haproxy(pool_backend(lb, servers))
    wait_status(proxy, "be/app1", "UP")
    wait_status(proxy, "be/app3", "UP")
    wait_status(proxy, "be/app2", "DOWN")
    verdicts = {n["node"]: n["status"] for n in httpx.get(f"{lb.url}/nodes").json()["nodes"]}
    assert send_traffic(proxy, 30) == [200] * 30
    hits = {n: s.hits[WORK] for n, s in servers.items()}
    assert {n for n, h in hits.items() if h} == {n for n, v in verdicts.items() if v == "UP"}
    assert hits == {"app1": 15, "app2": 0, "app3": 15}


def agent_backend(lb: Running, backend: SimServer, agent_port: int) -> str:
    """Only a TCP check of the backend itself; the node's state comes from the agent."""
    return (
        "backend be\n"
        f"    server app1 127.0.0.1:{backend.port} weight 100 check inter 200ms"
        f' agent-check agent-addr 127.0.0.1 agent-port {agent_port} agent-send "app1\\n"'
        " agent-inter 200ms\n"
    )


def test_agent_check_drives_haproxy_states(
    sim: Sim, lbhealth_server: Serve, haproxy: StartHAProxy
) -> None:
    backend = sim({"/": JBOSS_WELCOME, WORK: WORK_PAGE})
    agent_port = free_port()
    app1 = jboss_node(backend, agent_weight=50)
    lb = lbhealth_server(inventory({"app1": app1}, **ADMIN, agent_port=agent_port))
    proxy = haproxy(agent_backend(lb, backend, agent_port))
    wait_until(
        lambda: proxy.stats()["be/app1"], lambda r: (r["status"], r["weight"]) == ("UP", "50")
    )
    for state, seen in (("drain", "DRAIN"), ("maint", "MAINT"), ("enabled", "UP")):
        set_state(lb.url, "app1", state, "agent test")
        wait_status(proxy, "be/app1", seen)
    backend.pages["/"] = JBOSS_ERROR_200
    wait_status(proxy, "be/app1", "DOWN")
    backend.pages["/"] = JBOSS_WELCOME
    wait_status(proxy, "be/app1", "UP")


def test_exported_config_runs_and_logs_lbhealths_reason(
    sim: Sim, lbhealth_server: Serve, haproxy_binary: str, tmp_path: Path
) -> None:
    """The config `lbhealth export haproxy` writes, in a real HAProxy: its frontend serves only
    nodes lbhealth calls UP, a drained node goes NOLB, and the DOWN line carries the reason."""
    servers = {n: sim({"/": JBOSS_WELCOME, WORK: WORK_PAGE}) for n in ("app1", "app2")}
    nodes = {n: {**jboss_node(s), "address": f"127.0.0.1:{s.port}"} for n, s in servers.items()}
    nodes["db1"] = {"role": "database", "checks": [{"kind": "tcp", "address": "127.0.0.1:1"}]}
    lb = lbhealth_server(inventory(nodes, **ADMIN))
    port = free_port()
    exported = haproxy_config(
        parse_inventory(inventory(nodes, **ADMIN), "test"),
        lb.url,
        binds={"application": ("127.0.0.1", str(port))},
        timing=DetectionTiming(inter="200ms", rise=1, fall=1),
    )
    assert "frontend eim_database" not in exported and "frontend eim_application" in exported
    proxy = run_haproxy(haproxy_binary, tmp_path, exported, port)
    try:
        for node in ("app1", "app2"):
            wait_status(proxy, f"eim_application/{node}", "UP")
        servers["app1"].pages["/"] = JBOSS_ERROR_200
        wait_status(proxy, "eim_application/app1", "DOWN")
        reason = httpx.get(f"{lb.url}/health/app1").text.strip()
        assert reason.startswith("DOWN: jboss: ")
        down = wait_until(
            proxy.log_lines,
            lambda lines: any("eim_application/app1 is DOWN" in line for line in lines),
        )
        failed = [line for line in down if "check for server eim_application/app1 failed" in line]
        assert any(f'code: 503, info: "lbhealth: {reason}", check' in line for line in failed), down
        # A TCP-mode backend (database) logs lbhealth's reason too.
        db1 = httpx.get(f"{lb.url}/health/db1").text.strip()
        assert any(
            f'info: "lbhealth: {db1}"' in line for line in down if "eim_database/db1" in line
        )
        assert send_traffic(proxy, 6) == [200] * 6
        assert servers["app1"].hits[WORK] == 0 and servers["app2"].hits[WORK] == 6
        set_state(lb.url, "app2", "drain", "patching")
        wait_status(proxy, "eim_application/app2", "NOLB")
    finally:
        proxy.stop()
