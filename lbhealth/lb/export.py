"""``lbhealth export``: load-balancer configuration generated from the inventory.

Pure functions from an inventory to text, so that the strings the docs
document, the tests check and operators paste are the same strings.

HAProxy: one backend per role, one server per node (named after the node),
health-checked at lbhealth's ``/health/<node>`` with ``uri-lf
/health/%[srv_name]`` (so one ``http-check send`` line serves every server of a
backend) and ``http-check disable-on-404`` (a drained node, which answers 404,
goes NOLB). A failed check puts lbhealth's answer (``DOWN: jsp: ...``) into
HAProxy's log line (``on-error``). With ``agent_port`` set, every server also
gets an agent-check naming its node. ``init-addr last,libc,none`` lets the
config load while a backend name does not resolve yet.

Frontends only for the roles clients connect to through a load balancer (the
guide balances the web servers, and the application and messaging servers):
the database, file and services servers keep a backend, for their health in
HAProxy's stats, but no frontend. Frontends bind to the addresses given
(``--bind``), loopback until then: never every interface by default.

F5: one http monitor per node (an F5 monitor's send string cannot vary per
member), with the receive string matching ``x-lbhealth-state: up`` and the
receive disable string ``x-lbhealth-state: drain``; then one pool per role
with each member bound to its node's monitor.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from lbhealth.config import ROLES, TCP_ROLES, ConfigError, Inventory, NodeSpec
from lbhealth.serve.answer import STATE_HEADER, Served

#: The F5 receive string: matches only an answer served as UP. Header names go
#: out lower-case (uvicorn writes them so), and F5 matches case-sensitively.
F5_RECV = f"{STATE_HEADER.lower()}: {Served.UP.value}"
#: The F5 receive disable string: matches only an answer served as DRAIN.
F5_RECV_DISABLE = f"{STATE_HEADER.lower()}: {Served.DRAIN.value}"

#: Roles a load balancer does not balance, and why they get no frontend.
UNBALANCED = {
    "database": "clients reach SQL Server directly",
    "file": "clients reach the file share directly",
    "services": "the services server takes no client traffic",
}
#: Where frontends listen until ``--bind`` says otherwise: loopback, never every interface.
DEFAULT_BIND = "127.0.0.1"
#: What a failed check writes in HAProxy's log line (``info: "lbhealth: DOWN: jsp: ..."``):
#: lbhealth's one-line answer. The ``rstring`` rule before it makes HAProxy wait for the
#: body, which a TCP-mode backend otherwise does not read (HAProxy 2.6 then warns, at
#: parse time only, that the format needs ``mode http``; the reason is logged all the same).
HTTP_CHECK_EXPECT = (
    "    http-check expect rstring .",
    '    http-check expect status 200 on-error "lbhealth: %[res.body,field(1,\\n)]"',
)

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class DetectionTiming:
    """How fast a load balancer acts on lbhealth's answers: every timing line of the export.

    HAProxy checks every ``inter``, takes a server out after ``fall`` failed checks and
    back after ``rise`` good ones; ``check_timeout`` bounds one check. The F5 monitor
    asks every ``f5_interval`` seconds and marks a member down after ``f5_timeout``
    (F5's rule: three intervals plus one second).
    """

    inter: str = "500ms"
    rise: int = 2
    fall: int = 3
    check_timeout: str = "5s"
    f5_interval: int = 5
    f5_timeout: int = 16

    def haproxy_defaults(self) -> list[str]:
        return [
            f"    timeout check {self.check_timeout}",
            "    default-server init-addr last,libc,none"
            f" inter {self.inter} rise {self.rise} fall {self.fall}",
        ]

    def f5_monitor(self) -> str:
        return f"interval {self.f5_interval} timeout {self.f5_timeout}"


#: The timing the export writes.
TIMING = DetectionTiming()


def url_address(url: str) -> str:
    """``host:port`` of an http(s) URL, the scheme's default port filled in."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ConfigError([f"{url!r} is not an http(s) URL; write e.g. http://10.0.0.50:8080"])
    host, port = parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def node_address(spec: NodeSpec) -> str:
    """Where traffic for a node goes: ``address``, else its first check's host and port."""
    first = spec.checks[0]
    if spec.address or first.address:
        return spec.address or first.address or ""
    assert first.url is not None
    return url_address(first.url)


def _roles(inventory: Inventory) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = defaultdict(list)
    for node, spec in inventory.nodes.items():
        roles[spec.role or "nodes"].append(node)
    return roles


Bind = tuple[str, str | None]


def parse_binds(given: list[str]) -> dict[str, Bind]:
    """``--bind`` values: ``ADDR[:PORT]`` for every frontend, ``ROLE=ADDR[:PORT]`` for one.

    ADDR is an IPv4 address, a bracketed IPv6 address, or ``*`` (every interface,
    when that is really meant); without a port, the role's port is used.
    """
    binds: dict[str, Bind] = {}
    errors = []
    for value in given:
        role, sep, where = value.rpartition("=")
        if sep and role not in (*ROLES, "nodes"):
            errors.append(f"--bind {value!r}: unknown role; roles are {', '.join(ROLES)}")
            continue
        bind = _split_bind(where)
        if bind is None:
            errors.append(
                f"--bind {value!r}: write [ROLE=]ADDRESS[:PORT], e.g. web=10.0.0.10 or"
                " application=[2001:db8::11]:9001"
            )
            continue
        binds[role if sep else "*"] = bind
    if errors:
        raise ConfigError(errors)
    return binds


def _split_bind(where: str) -> Bind | None:
    """``(address, port or None)``, or None when ``where`` is not an address to bind."""
    if where.startswith("["):
        host, _, rest = where.partition("]")
        host, port = host + "]", rest.removeprefix(":") if rest.startswith(":") else rest
        if rest and not rest.startswith(":"):
            return None
    else:
        host, _, port = where.partition(":")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        return None
    if host != "*":
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return None
        if address.version == 6 and not host.startswith("["):
            return None
    return host, port or None


def haproxy_config(
    inventory: Inventory,
    lbhealth_url: str,
    binds: Mapping[str, Bind] | None = None,
    timing: DetectionTiming = TIMING,
) -> str:
    """A haproxy.cfg fragment (defaults, frontends, backends) for the inventory.

    ``binds`` maps a role (or ``*`` for all) to an address and an optional port
    (:func:`parse_binds`).
    """
    host, _, port = url_address(lbhealth_url).rpartition(":")
    agent_port = inventory.settings.agent_port
    binds = binds or {}
    lines = [
        f"# Generated by `lbhealth export haproxy` from {inventory.source}.",
        f"# Health checks ask lbhealth at {lbhealth_url}/health/<server name>.",
        "defaults",
        "    log global",
        "    option log-health-checks",
        "    timeout connect 5s",
        "    timeout client 1m",
        "    timeout server 1m",
        *timing.haproxy_defaults(),
    ]
    if not binds:
        lines.append(f"# Frontends bind to {DEFAULT_BIND} until --bind names the addresses.")
    bound: dict[str, str] = {}
    for role, nodes in _roles(inventory).items():
        specs = [inventory.nodes[n] for n in nodes]
        mode = "tcp" if role in TCP_ROLES or any(_is_tls(s) for s in specs) else "http"
        address, listen_port = binds.get(role, binds.get("*", (DEFAULT_BIND, None)))
        listen = f"{address}:{listen_port or node_address(specs[0]).rpartition(':')[2]}"
        lines += ["", *_frontend(role, mode, listen, bound), "", f"backend eim_{role}"]
        lines += [
            f"    mode {mode}",
            "    balance roundrobin",
            "    option httpchk",
            "    http-check disable-on-404",
            "    http-check send meth GET uri-lf /health/%[srv_name] ver HTTP/1.1"
            " hdr Host lbhealth",
            *HTTP_CHECK_EXPECT,
        ]
        for node in nodes:
            server = (
                f"    server {node} {node_address(inventory.nodes[node])}"
                f" check addr {host} port {port}"
            )
            if agent_port is not None:
                server += (
                    f' agent-check agent-addr {host} agent-port {agent_port} agent-send "{node}\\n"'
                )
            lines.append(server)
    return "\n".join(lines) + "\n"


def _is_tls(spec: NodeSpec) -> bool:
    """TLS backends (IIS on 443) are passed through in TCP mode: HAProxy holds no cert."""
    url = spec.checks[0].url
    return url is not None and url.startswith("https:")


def _frontend(role: str, mode: str, listen: str, bound: dict[str, str]) -> list[str]:
    """A frontend on ``listen`` for a balanced role, unless an earlier one is bound there."""
    if role in UNBALANCED:
        return [f"# eim_{role}: no frontend, {UNBALANCED[role]}; the backend shows its health"]
    if listen in bound:
        return [
            f"# eim_{role}: no frontend, {listen} is taken by eim_{bound[listen]};"
            f" give it its own address with --bind {role}=ADDRESS"
        ]
    bound[listen] = role
    return [
        f"frontend eim_{role}",
        f"    mode {mode}",
        f"    bind {listen}",
        f"    default_backend eim_{role}",
    ]


def _tmsh_quote(text: str) -> str:
    """Double quotes for tmsh; ``\\r\\n`` escapes are kept for the monitor to expand."""
    return '"' + text.replace('"', '\\"') + '"'


def f5_commands(inventory: Inventory, lbhealth_url: str, timing: DetectionTiming = TIMING) -> str:
    """tmsh commands: one http monitor per node, one pool per role."""
    destination = url_address(lbhealth_url)
    lines = [
        f"# Generated by `lbhealth export f5` from {inventory.source}.",
        f"# Monitors ask lbhealth at {destination}; F5 needs an IP address there.",
    ]
    for node in inventory.nodes:
        send = f"GET /health/{node} HTTP/1.1\\r\\nHost: lbhealth\\r\\nConnection: Close\\r\\n\\r\\n"
        lines.append(
            f"tmsh create ltm monitor http lbhealth_{node} defaults-from http"
            f" send {_tmsh_quote(send)} recv {_tmsh_quote(F5_RECV)}"
            f" recv-disable {_tmsh_quote(F5_RECV_DISABLE)}"
            f" {timing.f5_monitor()} destination {destination}"
        )
    for role, nodes in _roles(inventory).items():
        members = " ".join(
            f"{node_address(inventory.nodes[n])} {{ monitor lbhealth_{n} }}" for n in nodes
        )
        lines.append(f"tmsh create ltm pool eim_{role} members add {{ {members} }}")
    return "\n".join(lines) + "\n"
