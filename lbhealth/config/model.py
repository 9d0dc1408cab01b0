"""Settings and the node inventory: every validation rule lives here.

The inventory is the operator's YAML file. It is validated completely at load
time, so a typo fails ``lbhealth check-config`` (and a reload) with the field
path and a fix, not a 3 a.m. page. Settings come from the file's ``settings:``
block, overridden by ``LBHEALTH_<FIELD>`` environment variables (so a container
can change one value without a new ConfigMap), overridden by CLI flags.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lbhealth.config.roles import NODE_NAME, Role
from lbhealth.config.store_url import parse_store_url
from lbhealth.config.units import parse_duration, parse_size
from lbhealth.text.redact import mask_url

Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]

HTTP_KINDS = ("iis", "jboss", "jsp", "rmi-objects", "icm-connections", "http")
#: Administrative state of a node: ``drain`` takes no new sessions, ``maint`` none at all.
AdminState = Literal["enabled", "drain", "maint"]
#: Longest admin reason kept: it is shown to monitors and in logs.
MAX_ADMIN_REASON = 200
Kind = Literal["iis", "jboss", "jsp", "rmi-objects", "icm-connections", "http", "tcp"]

_STATUS_CLASS = re.compile(r"^([1-5])xx$", re.IGNORECASE)
_STATUS_RANGE = re.compile(r"^(\d{3})\s*-\s*(\d{3})$")


class Settings(BaseSettings):
    """Service-wide settings. Numbers of seconds accept ``"500ms"``/``"2s"`` too."""

    model_config = SettingsConfigDict(env_prefix="LBHEALTH_", extra="forbid")

    cache_ttl: Duration = Field(2.0, description="seconds a verdict is reused")
    timeout: Duration = Field(3.0, description="default total budget of one probe")
    max_body: Size = Field(1024 * 1024, description="bytes read at most from a backend")
    host: str = Field("127.0.0.1", description="address the service listens on")
    port: int = Field(8080, ge=1, le=65535, description="port the service listens on")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    admin_token: SecretStr | None = Field(
        None, description="bearer token for admin actions; unset disables the admin API"
    )
    min_up: dict[Role, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict, description="per role: UP nodes /health/role/{role} needs (1)"
    )
    history_size: int = Field(20, ge=1, le=1000, description="verdict changes kept per node")
    state_file: Path | None = Field(
        None, description="JSON file keeping drain/maint set through the admin API"
    )
    agent_port: int | None = Field(
        None, ge=1, le=65535, description="TCP port of the HAProxy agent-check listener"
    )
    # Background refresh (issue 5): see lbhealth/core/scheduler.py and README "Performance".
    mode: Literal["background", "on-demand"] = Field(
        "background", description="probe on a schedule, or when a monitor asks (cached)"
    )
    interval: Duration = Field(2.0, description="background mode: seconds between two probes")
    probe_process: bool = Field(
        True, description="background mode: probe in a child process, apart from the answers"
    )
    fastinter: Duration = Field(
        0.5, gt=0, description="with rise/fall: seconds between probes while a change builds up"
    )
    jitter: float = Field(0.1, ge=0, le=1, description="fraction of interval added at random")
    max_age: Duration | None = Field(
        None,
        description="background mode: older verdicts are DOWN (3*interval+timeout, +1s with store)",
    )
    max_probes: int = Field(64, ge=1, description="probes in flight at most, all backends")
    max_probes_per_host: int = Field(4, ge=1, description="probes in flight at most, per host")
    # Client limits (docs/endpoints.md, "Client-side limits"): lbhealth/app/server.py.
    max_connections: int = Field(
        1000, ge=1, description="open client connections; at it the busiest client loses one"
    )
    max_connections_per_client: int = Field(
        100, ge=1, description="open connections of one client address; past it they are closed"
    )
    keep_alive_timeout: Duration = Field(
        5.0, gt=0, description="seconds a connection waiting for a request is kept open"
    )
    request_timeout: Duration = Field(
        10.0, gt=0, description="seconds a client has to send a whole request (head and body)"
    )
    access_log: bool = Field(False, description="log one line per request served")
    # High availability (issue 13): see lbhealth/store/ and docs/high-availability.md.
    store: SecretStr | None = Field(
        None,
        description="shared store URL (redis://, rediss://, redis+sentinel://); unset: alone",
    )
    verdict_file: Path | None = Field(
        None,
        description="file keeping the last verdicts across restarts (default: beside state_file)",
    )

    @field_validator("store")
    @classmethod
    def _store_url_is_valid(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_store_url(value.get_secret_value())  # its errors show the URL masked
        return value

    @model_validator(mode="after")
    def _verdict_file_beside_state_file(self) -> Settings:
        if self.verdict_file is None and self.state_file is not None:
            state = self.state_file
            self.verdict_file = state.with_name(f"{state.stem}.verdicts.json")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment beats the file: a deployment overrides one value
        # without editing the inventory.
        return (env_settings, init_settings)


def _status_set(value: object) -> frozenset[int]:
    """Accept ``200``, ``"2xx"``, ``"200-299"`` or a list of those."""
    items = value if isinstance(value, list) else [value]
    codes: set[int] = set()
    for item in items:
        text = str(item).strip()
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
            codes.add(item)
        elif match := _STATUS_CLASS.match(text):
            base = int(match.group(1)) * 100
            codes.update(range(base, base + 100))
        elif (match := _STATUS_RANGE.match(text)) and int(match.group(1)) <= int(match.group(2)):
            codes.update(range(int(match.group(1)), int(match.group(2)) + 1))
        elif text.isdigit() and 100 <= int(text) <= 599:
            codes.add(int(text))
        else:
            raise ValueError(f"{item!r} is not a status; write 200, '2xx' or '200-399'")
    return frozenset(codes)


def _regex(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a regular expression string, got {value!r}")
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
    return value


def _names(value: object) -> tuple[str, ...]:
    """``require: [DX, EAAS]``, or one name alone (``require: DX``, read as ``[DX]``)."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list | tuple) and all(isinstance(i, str) and i.strip() for i in items):
        return tuple(i.strip() for i in items)
    raise ValueError(f"expected a name or a list of names, e.g. [DX, EAAS]; got {value!r}")


Regex = Annotated[str, BeforeValidator(_regex)]
Names = Annotated[tuple[str, ...], BeforeValidator(_names)]
StatusSet = Annotated[frozenset[int], BeforeValidator(_status_set)]


class CheckSpec(BaseModel):
    """One probe of one node, as written in the inventory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    name: str | None = None
    url: str | None = None
    address: str | None = None
    timeout: Duration | None = None
    interval: Duration | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    tls_verify: bool = True
    ca_file: Path | None = None
    follow_redirects: bool = False
    expect_status: StatusSet | None = None
    expect: Regex | None = None
    reject: Regex | None = None
    require: Names = ()
    rise: int = Field(1, ge=1, le=100, description="consecutive UP results to turn UP")
    fall: int = Field(1, ge=1, le=100, description="consecutive DOWN results to turn DOWN")

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        shown = mask_url(value)  # errors are logged and returned by the admin API
        if not value.isprintable() or " " in value:
            raise ValueError(
                f"{shown!r} holds spaces or control characters; percent-encode them (%20)"
            )
        parts = urlsplit(value)
        if "@" in parts.path + parts.query + parts.fragment:
            # "http://admin:12#pw@host/" is host "admin", port 12: never what was meant.
            raise ValueError(
                f"{shown!r} has an '@' after the host: percent-encode a '#', '/' or '?'"
                " in a password (%23, %2F, %3F) and an '@' in the path or query (%40)"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{shown!r} is not an http(s) URL; write e.g. http://app1:9001/")
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise ValueError(f"{shown!r} has an invalid port") from None
        return value

    @field_validator("address")
    @classmethod
    def _address_is_host_port(cls, value: str | None) -> str | None:
        if value is not None:
            split_address(value)
        return value

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"CA file {str(value)!r} does not exist")
        return value

    @model_validator(mode="after")
    def _target_matches_kind(self) -> CheckSpec:
        if self.kind == "tcp":
            if self.address is None:
                raise ValueError("a tcp check needs 'address: host:port' (e.g. db1:1433)")
            if self.url is not None:
                raise ValueError("a tcp check takes 'address', not 'url'")
            http_only = {"headers", "expect_status", "expect", "reject", "require", "ca_file"}
            used = sorted(http_only & self.model_fields_set)
            if used:
                raise ValueError(f"a tcp check does not take {', '.join(used)}")
        else:
            if self.url is None:
                raise ValueError(f"a {self.kind} check needs 'url' (e.g. http://host:9001/)")
            if self.address is not None:
                raise ValueError(f"a {self.kind} check takes 'url', not 'address'")
        if self.require and self.kind not in ("rmi-objects", "icm-connections"):
            raise ValueError("'require' applies only to rmi-objects and icm-connections checks")
        return self

    @property
    def target(self) -> str:
        """Where the check points, safe to show: credentials in a URL are masked."""
        if self.url is None:
            return self.address or ""
        return mask_url(self.url)


def split_address(value: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) into its parts, with a clear error."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not host:port; write e.g. db1.example.com:1433")
    return host, int(port)


def _address(value: str) -> str:
    split_address(value)
    return value


Address = Annotated[str, AfterValidator(_address)]


class NodeSpec(BaseModel):
    """A backend node: UP only when every one of its checks is UP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role | None = None
    checks: list[CheckSpec] = Field(min_length=1)
    address: Address | None = Field(
        None, description="host:port the load balancer sends traffic to (config export)"
    )
    admin_state: AdminState = "enabled"
    admin_reason: str | None = Field(None, max_length=MAX_ADMIN_REASON)
    agent_weight: int | None = Field(
        None, ge=0, le=256, description="weight percentage the agent-check reports when UP"
    )


def _node_name(name: str) -> str:
    if not NODE_NAME.match(name):
        raise ValueError(
            f"node name {name!r} must be 1-64 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return name


NodeName = Annotated[str, AfterValidator(_node_name)]


class InventoryFile(BaseModel):
    """The top level of the YAML file."""

    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] = Field(default_factory=dict)
    nodes: dict[NodeName, NodeSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Inventory:
    """A validated inventory: settings merged with the environment, plus nodes."""

    settings: Settings
    nodes: Mapping[str, NodeSpec]
    source: str

    def check_names(self, node: str) -> list[str]:
        """Stable, unique names of a node's checks (``name`` or kind, numbered if repeated)."""
        specs = self.nodes[node].checks
        names: list[str] = []
        for spec in specs:
            base = spec.name or spec.kind
            name, n = base, 2
            while name in names:
                name, n = f"{base}-{n}", n + 1
            names.append(name)
        return names
