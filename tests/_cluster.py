"""A simulated EIM/WIM cluster on loopback, described with ``preset: eim-wim``.

Two web, two application, one messaging, one services, one database and one
file node: the tests of pools, the cluster view and the status page run the
checks the preset derives against it. ``conftest.py`` makes it the ``cluster``
fixture (every node UP); a test breaks a node by changing one of its pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lbhealth.demo.cluster import IIS_WELCOME, JBOSS_WELCOME, JSP_LOGIN
from lbhealth.demo.simserver import Page, SimServer, TcpListener
from tests._cases import own_page
from tests._documented import ICM_JSP, LOGIN_JSP, RMI_JSP
from tests._servers import BackgroundLoop

#: A JSP whose stack trace carries markup: every view must show it as text.
HOSTILE_JSP = Page(
    200,
    [("Content-Type", "text/html")],
    b"<html><pre>java.lang.IllegalStateException: <b>&lt;script&gt;alert(1)&lt;/script&gt;</b>"
    b"\n\tat a.b(C.java:1)</pre></html>",
)


@dataclass
class SimCluster:
    """The cluster's HTTP backends and TCP listeners, by node name."""

    servers: dict[str, SimServer]
    listeners: dict[str, TcpListener]

    @classmethod
    def start(cls, bg: BackgroundLoop, sim: Callable[..., SimServer]) -> SimCluster:
        """Every node UP; ``sim`` (the fixture) stops the HTTP backends, :meth:`stop` the rest."""
        rmi, icm = (
            own_page("rmi-objects-uppercase-and-entities"),
            own_page("icm-connections-both-connected-no-header"),
        )
        servers = {
            "web1": sim({"/": IIS_WELCOME, RMI_JSP: rmi, ICM_JSP: icm}),
            "web2": sim({"/": IIS_WELCOME}),
            **{
                n: sim({"/": JBOSS_WELCOME, LOGIN_JSP: JSP_LOGIN}) for n in ("app1", "app2", "msg1")
            },
        }
        listeners = {name: bg.run(TcpListener().start()) for name in ("db1", "file1")}
        return cls(servers, listeners)

    def stop(self, bg: BackgroundLoop) -> None:
        for listener in self.listeners.values():
            bg.run(listener.stop())

    def inventory(self, **settings: Any) -> dict[str, Any]:
        def hosts(*names: str) -> list[dict[str, Any]]:
            return [{"host": "127.0.0.1", "name": n, "port": self.servers[n].port} for n in names]

        def tcp(name: str) -> list[dict[str, Any]]:
            return [{"host": "127.0.0.1", "name": name, "port": self.listeners[name].port}]

        return {
            "preset": "eim-wim",
            "settings": {"cache_ttl": "100ms", "timeout": 2, **settings},
            "cluster": {
                "database": tcp("db1"),
                "file": tcp("file1"),
                "messaging": hosts("msg1"),
                "services": ["svc1.example.com"],  # its JSPs are fetched through web1
                "application": {
                    "hosts": hosts("app1", "app2"),
                    "checks": {"jsp": {"expect": "Login"}},
                },
                "web": hosts("web1", "web2"),
            },
        }
