"""Inventory presets: the checks a vendor guide prescribes, derived from host lists.

An EIM/WIM 4.3 operator should not retype the best-practice guide: with
``preset: eim-wim`` the inventory lists hosts per role under ``cluster:`` and
:func:`expand` writes the ``nodes:`` the guide describes (SQL Server on 1433,
SMB on 445, JBoss welcome page and a JSP on :9001, the two debug JSPs fetched
through the first web server, IIS on the web servers). Every derived value can
be overridden per role or per host, and explicit ``nodes:`` are merged in.

Pure: a mapping in, a mapping out (or a ConfigError naming every bad field),
so ``check-config --explain`` shows exactly what the service will run.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lbhealth.config.errors import ConfigError
from lbhealth.config.roles import NODE_NAME, ROLES, TCP_ROLES
from lbhealth.text.redact import mask_url

LOGIN_JSP = "/system/web/view/platform/login/login.jsp"
RMI_JSP = "/system/web/view/platform/debug/listrmiobjects.jsp"
ICM_JSP = "/system/web/view/platform/debug/ICMIntegratedConnections.jsp"

#: Options each role understands, with the guide's defaults (None: scheme default).
_JBOSS = {"scheme": "http", "port": 9001, "jsp_path": LOGIN_JSP}
ROLE_DEFAULTS: dict[str, dict[str, Any]] = {
    "database": {"port": 1433},
    "file": {"port": 445},
    "messaging": _JBOSS,
    "application": _JBOSS,
    "services": {"via": None, "rmi_path": RMI_JSP, "icm_path": ICM_JSP},
    "web": {"scheme": "http", "port": None, "iis_path": "/"},
}
#: The checks each role gets, by name (the keys of a ``checks:`` override).
ROLE_CHECKS = {
    "database": ("mssql",),
    "file": ("smb",),
    "messaging": ("jboss", "jsp"),
    "application": ("jboss", "jsp"),
    "services": ("rmi-objects", "icm-connections"),
    "web": ("iis",),
}
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_ROLE_KEYS = {"hosts", "checks"}
_HOST_KEYS = {"host", "name", "checks"}


@dataclass(frozen=True)
class _Host:
    """One host of one role with its options resolved (role, then host overrides)."""

    path: str
    role: str
    host: str
    name: str
    options: Mapping[str, Any]
    checks: Mapping[str, Any]


class _Errors(list[str]):
    def add(self, path: str, message: str) -> None:
        self.append(f"{path}: {message}")


def expand(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The inventory with ``preset``/``cluster`` replaced by the nodes they describe."""
    if "preset" not in data:
        if "cluster" in data:
            raise ConfigError(["cluster: needs 'preset: eim-wim' next to it"])
        return data
    if data["preset"] != "eim-wim":
        raise ConfigError([f"preset: unknown preset {data['preset']!r}; the only one is 'eim-wim'"])
    errors = _Errors()
    hosts = list(_hosts(data.get("cluster"), errors))
    _check_names(hosts, errors)
    via = _services_via(hosts)
    derived = {h.name: {"role": h.role, "checks": _checks(h, via, errors)} for h in hosts}
    explicit = data.get("nodes") or {}
    if isinstance(explicit, Mapping):
        for name in explicit:
            if name in derived:
                errors.add(f"nodes.{name}", "also derived from cluster:; rename one of them")
    if errors:
        raise ConfigError(errors)
    rest = {k: v for k, v in data.items() if k not in ("preset", "cluster", "nodes")}
    merged = {**derived, **explicit} if isinstance(explicit, Mapping) else explicit
    return {**rest, "nodes": merged}


def _long_form(value: object, short: type, key: str) -> Mapping[str, Any] | None:
    """An entry as a mapping: the short form (a bare host list, a bare host name) is
    ``{key: value}``; None when the entry is neither form."""
    if isinstance(value, short):
        return {key: value}
    return value if isinstance(value, Mapping) else None


def _hosts(cluster: object, errors: _Errors) -> Iterator[_Host]:
    if not isinstance(cluster, Mapping) or not cluster:
        errors.add("cluster", "list hosts per role, e.g. 'web: [web1.example.com]'")
        return
    for role, value in cluster.items():
        path = f"cluster.{role}"
        if role not in ROLES:
            errors.add(path, f"unknown role; roles are {', '.join(ROLES)}")
            continue
        # The short form is the host list itself: its entries are cluster.<role>[i].
        where = path if isinstance(value, list) else f"{path}.hosts"
        value = _long_form(value, list, "hosts")
        if value is None:
            errors.add(path, "write a list of hosts, or a mapping with 'hosts:' and options")
            continue
        entries = value.get("hosts")
        if not isinstance(entries, list) or not entries:
            errors.add(where if "hosts" in value else path, "needs at least one host")
            continue
        options = _options(path, role, value, _ROLE_KEYS, ROLE_DEFAULTS[role], errors)
        checks = _check_overrides(path, role, value.get("checks"), {}, errors)
        for i, entry in enumerate(entries):
            yield from _host(f"{where}[{i}]", role, entry, options, checks, errors)


def _host(
    path: str,
    role: str,
    entry: object,
    role_options: Mapping[str, Any],
    role_checks: Mapping[str, Any],
    errors: _Errors,
) -> Iterator[_Host]:
    entry = _long_form(entry, str, "host")
    if entry is None:
        errors.add(path, "write a host name, or a mapping with 'host:' and options")
        return
    host = entry.get("host")
    if not isinstance(host, str) or not _HOST.match(host):
        errors.add(
            path, f"{host!r} is not a host name or IPv4 address; write e.g. app1.example.com"
        )
        return
    name = entry.get("name", _short_name(host))
    if not isinstance(name, str) or not NODE_NAME.match(name):
        errors.add(
            path,
            f"node name {name!r} (from host {host!r}) must be 1-64 letters, digits, '.', '_'"
            " or '-'; set 'name:' for this host",
        )
        return
    options = _options(path, role, entry, _HOST_KEYS, role_options, errors)
    checks = _check_overrides(path, role, entry.get("checks"), role_checks, errors)
    yield _Host(path, role, host, name, options, checks)


def _short_name(host: str) -> str:
    """``app1.example.com`` -> ``app1``; an IP address stays whole."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.split(".", 1)[0]
    return host


def _options(
    path: str,
    role: str,
    given: Mapping[str, Any],
    own_keys: set[str],
    base: Mapping[str, Any],
    errors: _Errors,
) -> dict[str, Any]:
    """``base`` overridden by the role's options found in ``given``, each validated."""
    options = dict(base)
    for key, value in given.items():
        where = f"{path}.{key}"
        if key in own_keys:
            continue
        if key not in base:
            known = ", ".join(sorted({*own_keys, *ROLE_DEFAULTS[role]}))
            errors.add(where, f"unknown option for {role} hosts; options are {known}")
        elif key == "port" and not (isinstance(value, int) and 1 <= value <= 65535):
            errors.add(where, f"{value!r} is not a port; write a number 1-65535")
        elif key == "scheme" and value not in ("http", "https"):
            errors.add(where, f"{value!r} is not a scheme; write http or https")
        elif key.endswith("_path") and not (isinstance(value, str) and value.startswith("/")):
            errors.add(where, f"{value!r} is not a path; write e.g. /page.jsp")
        elif key == "via" and not (isinstance(value, str) and re.match(r"^https?://", value)):
            shown = mask_url(value) if isinstance(value, str) else value
            errors.add(where, f"{shown!r} is not a base URL; write e.g. http://web1.example.com")
        else:
            options[key] = value
    return options


def _check_overrides(
    path: str, role: str, given: object, base: Mapping[str, Any], errors: _Errors
) -> dict[str, Any]:
    """Per-check option overrides (``false`` drops the check), layered over ``base``."""
    merged = dict(base)
    if given is None:
        return merged
    if not isinstance(given, Mapping):
        errors.add(f"{path}.checks", "write a mapping of check name to options, e.g. {jsp: {...}}")
        return merged
    for name, value in given.items():
        where = f"{path}.checks.{name}"
        if name not in ROLE_CHECKS[role]:
            errors.add(where, f"unknown check; {role} checks are {', '.join(ROLE_CHECKS[role])}")
        elif value is False:
            merged[name] = False
        elif isinstance(value, Mapping):
            earlier = merged.get(name)
            merged[name] = {**(earlier if isinstance(earlier, Mapping) else {}), **value}
        else:
            errors.add(where, "write check options (e.g. {timeout: 5}) or false to drop it")
    return merged


def _check_names(hosts: list[_Host], errors: _Errors) -> None:
    seen: dict[str, str] = {}
    for h in hosts:
        if h.name in seen:
            errors.add(
                h.path,
                f"node name {h.name!r} (from host {h.host!r}) is already used by"
                f" {seen[h.name]}; set 'name:' for one of them",
            )
        else:
            seen[h.name] = h.path


def _services_via(hosts: list[_Host]) -> str | None:
    """The guide fetches the services' debug JSPs through the first web server."""
    for h in hosts:
        if h.role == "web":
            return _base_url(h)
    return None


def _base_url(h: _Host) -> str:
    port = h.options.get("port")
    return f"{h.options['scheme']}://{h.host}" + (f":{port}" if port else "")


def _checks(h: _Host, via: str | None, errors: _Errors) -> list[dict[str, Any]]:
    o = h.options
    derived: dict[str, dict[str, Any]]
    if h.role in TCP_ROLES:
        name = ROLE_CHECKS[h.role][0]
        derived = {name: {"kind": "tcp", "address": f"{h.host}:{o['port']}"}}
    elif h.role in ("messaging", "application"):
        base = _base_url(h)
        derived = {
            "jboss": {"kind": "jboss", "url": f"{base}/"},
            "jsp": {"kind": "jsp", "url": base + o["jsp_path"]},
        }
    elif h.role == "services":
        through: str | None = o["via"] or via
        if through is None:
            errors.add(h.path, "services checks go through a web server: list one under web")
            return []
        through = through.rstrip("/")
        derived = {
            "rmi-objects": {"kind": "rmi-objects", "url": through + o["rmi_path"]},
            # The guide's two links: a page listing only one of them is DOWN too.
            "icm-connections": {
                "kind": "icm-connections",
                "url": through + o["icm_path"],
                "require": ["MR", "ARM"],
            },
        }
    else:
        derived = {"iis": {"kind": "iis", "url": _base_url(h) + o["iis_path"]}}
    checks = []
    for name, spec in derived.items():
        override = h.checks.get(name, {})
        if override is not False:
            checks.append({"name": name, **spec, **override})
    if not checks:
        errors.add(h.path, "every check of this host is dropped; keep at least one")
    return checks
