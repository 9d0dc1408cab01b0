"""``lbhealth demo``: a simulated EIM/WIM cluster on loopback, and lbhealth over it.

Every simulated server is a real HTTP or TCP listener on 127.0.0.1 answering
the pages the real one would, so the demo exercises exactly the code that runs
in production. Three nodes fail the way real ones do: web2's IIS application
pool is stopped (HTTP.sys 503), app2's JSP answers 200 with a Java stack
trace, and on svc1 the EAAS process is no longer alive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lbhealth.demo.simserver import Page, SimServer, TcpListener

RMI_PATH = "/system/web/view/platform/debug/listrmiobjects.jsp"
ICM_PATH = "/system/web/view/platform/debug/ICMIntegratedConnections.jsp"
JSP_PATH = "/system/web/view/platform/login/login.jsp"

_HTML = [("Content-Type", "text/html; charset=utf-8")]
_IIS = [("Server", "Microsoft-IIS/10.0"), ("X-Powered-By", "ASP.NET"), *_HTML]
_JBOSS = [
    ("Server", "Apache-Coyote/1.1"),
    ("X-Powered-By", "Servlet 2.5; JBoss-5.0/JBossWeb-2.1"),
    *_HTML,
]

IIS_WELCOME = Page(
    200,
    _IIS,
    b"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">
<html><head><title>IIS Windows Server</title></head>
<body><div id="container"><a href="http://go.microsoft.com/fwlink/?linkid=66138">
<img src="iisstart.png" alt="IIS" width="960" height="600" /></a></div></body></html>
""",
)
IIS_APPPOOL_STOPPED = Page(
    503,
    [("Content-Type", "text/html; charset=us-ascii"), ("Server", "Microsoft-HTTPAPI/2.0")],
    b"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">
<HTML><HEAD><TITLE>Service Unavailable</TITLE>
<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>
<BODY><h2>Service Unavailable</h2>
<hr><p>HTTP Error 503. The service is unavailable.</p>
</BODY></HTML>
""",
)
JBOSS_WELCOME = Page(
    200,
    _JBOSS,
    b"""<!DOCTYPE html>
<html><head><title>Welcome to JBoss&trade;</title></head>
<body><h3>JBoss Online Resources</h3>
<ul><li><a href="http://www.jboss.org/jbossas/docs">JBoss AS Documentation</a></li></ul>
<h3>JBoss Management</h3><ul><li><a href="/web-console/">JBoss Web Console</a></li></ul>
</body></html>
""",
)
JSP_LOGIN = Page(
    200,
    _JBOSS,
    b"""<html><head><title>Cisco Interaction Manager - Login</title></head>
<body><form method="post" action="j_security_check">
<label>User name</label><input name="j_username"/><label>Password</label>
<input type="password" name="j_password"/><span class="error"></span>
<input type="submit" value="Login"/></form></body></html>
""",
)
JSP_STACK_TRACE = Page(
    200,
    _JBOSS,
    b"""<html><head><title>Cisco Interaction Manager - Login</title></head>
<body><pre>java.lang.NullPointerException
\tat com.egain.platform.framework.session.SessionManager.getSession(SessionManager.java:214)
\tat org.apache.jsp.system.web.view.platform.login.login_jsp._jspService(login_jsp.java:88)
</pre></body></html>
""",
)


def _rmi_page(states: dict[str, str]) -> Page:
    rows = "".join(f"<tr><td>{name}</td><td>{state}</td></tr>\n" for name, state in states.items())
    body = (
        "<html><head><title>List RMI Objects</title></head><body><h3>RMI Objects</h3>\n"
        '<table border="1"><tr><th>Process Name</th><th>Status</th></tr>\n'
        f"{rows}</table></body></html>\n"
    )
    return Page(200, _JBOSS, body.encode())


RMI_ALIVE = "&quot;Remote Object is Alive&quot;"
RMI_EAAS_DEAD = _rmi_page(
    {
        "DX": RMI_ALIVE,
        "RX": RMI_ALIVE,
        "EAAS": (
            "java.rmi.ConnectException: Connection refused to host: 127.0.0.1;"
            " nested exception is: java.net.ConnectException: Connection refused"
        ),
        "Listener": RMI_ALIVE,
        "Purge": "NA",
    }
)
ICM_CONNECTED = Page(
    200,
    _JBOSS,
    b"""<html><head><title>ICM Integrated Connections</title></head>
<body><h3>ICM Integrated Connections</h3><table border="1">
<tr><th>Link</th><th>Description</th><th>PG Host</th><th>Port</th><th>Status</th></tr>
<tr><td>MR</td><td>Media Routing (EAAS)</td><td>pg1a.example.local</td>
<td>38001</td><td>Connected</td></tr>
<tr><td>ARM</td><td>Agent Reporting and Management (Listener)</td>
<td>pg1a.example.local</td><td>42027</td><td>Connected</td></tr>
</table></body></html>
""",
)


@dataclass
class DemoCluster:
    """The running simulated servers and the inventory that points at them."""

    servers: dict[str, SimServer]
    listeners: dict[str, TcpListener]
    inventory: dict[str, Any]

    async def stop(self) -> None:
        for server in self.servers.values():
            await server.stop()
        for listener in self.listeners.values():
            await listener.stop()


#: The simulated servers in port order: ``lbhealth demo`` puts them on consecutive
#: ports from ``--backends-from`` (8081: web1 on 8081 ... file1 on 8087), where
#: ``examples/inventory.yaml`` expects them.
BACKENDS = ("web1", "web2", "app1", "app2", "msg1", "db1", "file1")
FIRST_PORT = 8081


async def start_cluster(first_port: int = 0) -> DemoCluster:
    """Start the simulated servers and describe them.

    On consecutive ports from ``first_port`` (see :data:`BACKENDS`), or on free
    ports when it is 0 (tests, and several demos on one machine).
    """
    servers = {
        "web1": SimServer({"/": IIS_WELCOME, RMI_PATH: RMI_EAAS_DEAD, ICM_PATH: ICM_CONNECTED}),
        "web2": SimServer({"/": IIS_APPPOOL_STOPPED}),
        "app1": SimServer({"/": JBOSS_WELCOME, JSP_PATH: JSP_LOGIN}),
        "app2": SimServer({"/": JBOSS_WELCOME, JSP_PATH: JSP_STACK_TRACE}),
        "msg1": SimServer({"/": JBOSS_WELCOME}),
    }
    listeners = {"db1": TcpListener(), "file1": TcpListener()}
    for offset, name in enumerate(BACKENDS):
        port = first_port + offset if first_port else 0
        await (servers[name].start(port) if name in servers else listeners[name].start(port))

    def jboss(name: str, jsp: bool) -> list[dict[str, Any]]:
        checks: list[dict[str, Any]] = [{"kind": "jboss", "url": servers[name].url("/")}]
        if jsp:
            checks.append({"kind": "jsp", "url": servers[name].url(JSP_PATH), "expect": "Login"})
        return checks

    nodes: dict[str, Any] = {
        "db1": {
            "role": "database",
            "checks": [{"kind": "tcp", "address": f"127.0.0.1:{listeners['db1'].port}"}],
        },
        "file1": {
            "role": "file",
            "checks": [{"kind": "tcp", "address": f"127.0.0.1:{listeners['file1'].port}"}],
        },
        "msg1": {"role": "messaging", "checks": jboss("msg1", jsp=False)},
        "app1": {"role": "application", "checks": jboss("app1", jsp=True)},
        "app2": {"role": "application", "checks": jboss("app2", jsp=True)},
        "svc1": {
            "role": "services",
            "checks": [
                {"kind": "rmi-objects", "url": servers["web1"].url(RMI_PATH)},
                {"kind": "icm-connections", "url": servers["web1"].url(ICM_PATH)},
            ],
        },
        "web1": {"role": "web", "checks": [{"kind": "iis", "url": servers["web1"].url("/")}]},
        "web2": {"role": "web", "checks": [{"kind": "iis", "url": servers["web2"].url("/")}]},
    }
    inventory = {"settings": {"cache_ttl": 2, "timeout": 3}, "nodes": nodes}
    return DemoCluster(servers, listeners, inventory)
