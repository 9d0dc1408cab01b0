"""Inventory validation: every rule has a row, every error names its field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lbhealth.config import ConfigError, Settings, load_inventory, parse_inventory
from lbhealth.config.units import parse_duration, parse_size
from tests._process import ROOT

EXAMPLE = ROOT / "examples" / "inventory.yaml"


def inv(*checks: dict[str, Any], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "settings": settings or {},
        "nodes": {"app1": {"role": "application", "checks": list(checks)}},
    }


def errors_of(data: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_inventory(data)
    return info.value.errors


def test_example_inventory_from_readme_loads() -> None:
    inventory = load_inventory(EXAMPLE)
    assert set(inventory.nodes) >= {"web1", "app1", "svc1", "db1"}
    assert inventory.settings.interval == 2
    assert inventory.settings.timeout == 3


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            inv({"kind": "jboss", "url": "app1:9001"}),
            "nodes.app1.checks[0].url: 'app1:9001' is not an http(s) URL",
        ),
        (inv({"kind": "jboss"}), "nodes.app1.checks[0]: a jboss check needs 'url'"),
        (inv({"kind": "tcp"}), "nodes.app1.checks[0]: a tcp check needs 'address"),
        (
            inv({"kind": "tcp", "address": "db1"}),
            "nodes.app1.checks[0].address: 'db1' is not host:port",
        ),
        (
            inv({"kind": "tcp", "address": "db1:1433", "expect": "x"}),
            "nodes.app1.checks[0]: a tcp check does not take expect",
        ),
        (inv({"kind": "nginx", "url": "http://x/"}), "nodes.app1.checks[0].kind: Input should be"),
        (
            inv({"kind": "jsp", "url": "http://x/", "expect": "("}),
            "nodes.app1.checks[0].expect: '(' is not a valid regular expression",
        ),
        (
            inv({"kind": "http", "url": "http://x/", "expect_status": "6xx"}),
            "nodes.app1.checks[0].expect_status: '6xx' is not a status",
        ),
        (
            inv({"kind": "iis", "url": "http://x/", "require": ["EAAS"]}),
            "nodes.app1.checks[0]: 'require' applies only to rmi-objects",
        ),
        (
            inv({"kind": "iis", "url": "http://x/", "timout": 3}),
            "nodes.app1.checks[0].timout: unknown field",
        ),
        (
            inv({"kind": "iis", "url": "http://x/", "timeout": "soon"}),
            "nodes.app1.checks[0].timeout: 'soon' is not a duration",
        ),
        (
            inv({"kind": "iis", "url": "http://x/", "ca_file": "/nonexistent/ca.pem"}),
            "nodes.app1.checks[0].ca_file: CA file '/nonexistent/ca.pem' does not exist",
        ),
        (
            inv({"kind": "iis", "url": "http://x/"}, settings={"cache_ttl": "0s"}),
            "settings.cache_ttl: a duration must be positive",
        ),
        (inv({"kind": "iis", "url": "http://x/"}, settings={"port": 70000}), "settings.port:"),
        (
            inv({"kind": "iis", "url": "http://x/"}, settings={"cache": 2}),
            "settings.cache: unknown field",
        ),
        ({"nodes": {"app1": {"checks": []}}}, "nodes.app1.checks: needs at least one entry"),
        (
            {"nodes": {"../etc": {"checks": [{"kind": "iis", "url": "http://x/"}]}}},
            "nodes.../etc: node name '../etc' must be",
        ),
        ({"nodes": {}}, "nodes: needs at least one entry"),
        ({"node": {}}, "node: unknown field"),
        ([1, 2], "the top level must be a mapping"),
    ],
)
def test_invalid_inventory_names_the_field(data: object, expected: str) -> None:
    assert any(expected in line for line in errors_of(data)), errors_of(data)


def test_every_error_is_reported_not_just_the_first() -> None:
    data = {
        "settings": {"timeout": "x"},
        "nodes": {
            "a": {"checks": [{"kind": "jboss", "url": "bad"}]},
            "b": {"checks": [{"kind": "tcp", "address": "nohost"}]},
        },
    }
    errors = errors_of(data)
    assert len(errors) == 3
    assert {e.split(":")[0] for e in errors} == {
        "settings.timeout",
        "nodes.a.checks[0].url",
        "nodes.b.checks[0].address",
    }


def test_yaml_syntax_error_gives_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("nodes:\n  app1:\n    checks: [\n")
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    assert "invalid YAML" in info.value.errors[0] and "line" in info.value.errors[0]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_inventory(tmp_path / "absent.yaml")


def test_environment_overrides_file_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LBHEALTH_CACHE_TTL", "500ms")
    inventory = parse_inventory(
        inv({"kind": "iis", "url": "http://x/"}, settings={"cache_ttl": 5, "timeout": 4})
    )
    assert inventory.settings.cache_ttl == 0.5
    assert inventory.settings.timeout == 4


def test_bad_environment_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LBHEALTH_TIMEOUT", "forever")
    assert any(
        e.startswith("settings.timeout:")
        for e in errors_of(inv({"kind": "iis", "url": "http://x/"}))
    )


def test_settings_defaults_are_sane() -> None:
    settings = Settings()
    assert (settings.cache_ttl, settings.timeout, settings.max_body) == (2.0, 3.0, 1024 * 1024)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(3, 3.0), (2.5, 2.5), ("500ms", 0.5), ("2s", 2.0), ("1m", 60.0), (" 1.5 s ", 1.5)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "fast", "-1", "0", True, None, "1d"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"), [(1024, 1024), ("64KiB", 65536), ("1MiB", 1048576), ("1mb", 1000000)]
)
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text) == size


def test_expect_status_accepts_classes_and_ranges() -> None:
    inventory = parse_inventory(
        inv({"kind": "http", "url": "http://x/", "expect_status": ["2xx", 301, "400-401"]})
    )
    codes = inventory.nodes["app1"].checks[0].expect_status
    assert codes is not None and {200, 299, 301, 400, 401} <= codes and 302 not in codes


def test_credentials_in_url_are_masked_in_target() -> None:
    inventory = parse_inventory(inv({"kind": "http", "url": "http://admin:s3cret@x:81/p"}))
    target = inventory.nodes["app1"].checks[0].target
    assert "s3cret" not in target and "admin" not in target and target.endswith("x:81/p")


def test_repeated_check_kinds_get_unique_names() -> None:
    inventory = parse_inventory(
        inv(
            {"kind": "jsp", "url": "http://x/a.jsp"},
            {"kind": "jsp", "url": "http://x/b.jsp"},
            {"kind": "jsp", "name": "login", "url": "http://x/c.jsp"},
        )
    )
    assert inventory.check_names("app1") == ["jsp", "jsp-2", "login"]


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"mode": "lazy"}, "settings.mode: Input should be 'background' or 'on-demand'"),
        ({"jitter": 2}, "settings.jitter: Input should be less than or equal to 1"),
        ({"max_probes": 0}, "settings.max_probes: Input should be greater than or equal to 1"),
        ({"interval": "0s"}, "settings.interval: a duration must be positive"),
    ],
)
def test_refresh_settings_are_validated(settings: dict[str, object], error: str) -> None:
    data = {"settings": settings, "nodes": {"a": {"checks": [{"kind": "tcp", "address": "a:1"}]}}}
    with pytest.raises(ConfigError) as info:
        parse_inventory(data)
    assert any(line.startswith(error) for line in info.value.errors), info.value.errors


@pytest.mark.parametrize(
    ("written", "read"), [("DX", ("DX",)), (["DX", " EAAS "], ("DX", "EAAS")), ([], ())]
)
def test_require_takes_one_name_or_a_list(written: object, read: tuple[str, ...]) -> None:
    spec = {"kind": "rmi-objects", "url": "http://x/list.jsp", "require": written}
    assert parse_inventory(inv(spec)).nodes["app1"].checks[0].require == read


@pytest.mark.parametrize("written", [7, ["DX", 7], {"DX": True}, [""]])
def test_require_of_anything_but_names_is_refused_clearly(written: object) -> None:
    spec = {"kind": "rmi-objects", "url": "http://x/list.jsp", "require": written}
    assert errors_of(inv(spec)) == [
        "nodes.app1.checks[0].require: expected a name or a list of names, e.g. [DX, EAAS];"
        f" got {written!r}"
    ]
