"""Configured secrets never shown: in ``--explain``, in details, and across a shortening cut."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lbhealth.config import parse_inventory
from lbhealth.core.checks import Check, build_checks, internal_failure, judge
from lbhealth.interpret import Answer
from lbhealth.probe import Observation
from lbhealth.text.clean import MAX_REASON
from lbhealth.text.redact import redact_data
from tests._process import lbhealth

SECRET = "S3cr3t-K3y-7731"


def check(kind: str = "http", header: str = "X-Api-Key") -> Check:
    inventory = parse_inventory(
        {
            "nodes": {
                "web1": {
                    "checks": [{"kind": kind, "url": "http://web1/", "headers": {header: SECRET}}]
                }
            }
        }
    )
    return build_checks(inventory)["web1"][0]


def answered(
    body: str, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> Observation:
    answer = Answer(status, [("Content-Type", "text/html"), *headers], body.encode())
    return Observation(answer=answer, error=None, detail="", elapsed=0.01)


def leaked(text: str) -> bool:
    """Whether ``text`` shows the secret or any head of it long enough to help a guess."""
    return any(SECRET[:size] in text for size in range(4, len(SECRET) + 1))


@pytest.mark.parametrize(
    "header", ["Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Auth-Token"]
)
def test_check_config_explain_masks_every_credential_header(tmp_path: Path, header: str) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "nodes:\n"
        "  web1:\n"
        "    checks:\n"
        "      - kind: http\n"
        "        url: http://web1/\n"
        f"        headers: {{{header}: {SECRET}, Accept-Language: de-CH}}\n"
    )
    result = lbhealth("check-config", "--explain", str(path))
    assert result.returncode == 0, result.stderr
    assert f'"{header}": "***"' in result.stdout
    assert '"Accept-Language": "de-CH"' in result.stdout
    assert SECRET not in result.stdout


def test_server_header_echoing_a_secret_is_redacted_in_details() -> None:
    server = f"Microsoft-IIS/10.0 (key {SECRET})"
    result = judge(check("iis"), answered("<html></html>", headers=(("Server", server),)), 0.0)
    assert result.details["server"] == "Microsoft-IIS/10.0 (key ***)"


def test_listing_rows_quoting_a_secret_are_redacted_in_details() -> None:
    page = (
        "<table><tr><th>Process Name</th><th>Status</th></tr>"
        "<tr><td>EAAS</td><td>Remote Object is Alive</td></tr>"
        f"<tr><td>DX</td><td>java.rmi.ConnectException: auth {SECRET} refused</td></tr></table>"
    )
    result = judge(check("rmi-objects"), answered(page), 0.0)
    dx = result.to_json()["details"]["processes"][1]
    assert dx["state"] == "java.rmi.ConnectException: auth *** refused"
    assert not leaked(str(result.to_json()))


def test_redact_data_walks_nested_data_but_not_without_bound() -> None:
    deep: Any = SECRET
    for _ in range(50):
        deep = [deep]
    data = {"rows": [{"name": SECRET, SECRET: (1, SECRET)}], "deep": deep}
    shown = redact_data(data, (SECRET,))
    assert shown["rows"] == [{"name": "***", "***": [1, "***"]}]
    assert not leaked(repr(shown))


@pytest.mark.parametrize("offset", [MAX_REASON - 16, MAX_REASON - 12, MAX_REASON - 8])
def test_prober_detail_with_a_secret_across_the_cut_leaks_no_part_of_it(offset: int) -> None:
    detail = "x" * offset + f" {SECRET} and more text after it"
    observation = Observation(answer=None, error="connect", detail=detail, elapsed=0.01)
    result = judge(check(), observation, 0.0)
    assert len(result.reason) <= MAX_REASON
    assert not leaked(result.reason), result.reason


@pytest.mark.parametrize("offset", [MAX_REASON - 62, MAX_REASON - 59, MAX_REASON - 55])
def test_internal_error_quoting_a_secret_across_the_cut_leaks_no_part_of_it(offset: int) -> None:
    error = RuntimeError("y" * offset + f" {SECRET} trailing words")
    result = internal_failure(check(), error, 0.0)
    assert not leaked(result.reason), result.reason


@pytest.mark.parametrize("offset", [76, 80, 84])
def test_error_title_shortened_by_the_interpreter_leaks_no_part_of_a_secret(offset: int) -> None:
    title = "Denied " + "z" * offset + f" {SECRET} GET /"
    page = f"<html><head><title>{title}</title></head><body>no</body></html>"
    result = judge(check(), answered(page, status=500), 0.0)
    assert result.reason.startswith("HTTP 500, expected 2xx/3xx: Denied zzz")
    assert result.reason.endswith("...")
    assert not leaked(result.reason), result.reason
