"""Passwords in check URLs: a '#', '/' or '?' left unencoded is refused, and never quoted.

``http://admin:1234#pw@host/`` parses as host ``admin``, port 1234: the rest
of the password is a fragment, so nothing would mask it. Such a URL is refused
with a masked quote and the fix, in ``check-config``, in the 422 of ``POST
/admin/reload`` and in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lbhealth.app.logs import JsonFormatter
from lbhealth.config import ConfigError, parse_inventory
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._admin import AUTH, TOKEN
from tests._inventory import same_kind
from tests._process import lbhealth
from tests._servers import Running

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any] | Path], Running]
PASSWORD_TAIL = "Xq7pw"
URLS = [
    f"http://admin:1234#{PASSWORD_TAIL}@web1/",
    f"http://admin:se/{PASSWORD_TAIL}@web1:80/iisstart.htm",
    f"http://admin:se?{PASSWORD_TAIL}@web1/",
    f"https://admin:99999#{PASSWORD_TAIL}@web1/",
]
IDS = ["hash", "slash", "question-mark", "hash-bad-port"]


def web1_inventory(url: str) -> dict[str, Any]:
    """One node, web1, checked at ``url``; the admin API on, for ``POST /admin/reload``."""
    return same_kind("iis", {"web1": url}, admin_token=TOKEN, interval=60)


@pytest.mark.parametrize("url", URLS, ids=IDS)
def test_an_unencoded_password_character_is_refused_with_the_fix(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_inventory(web1_inventory(url))
    [error] = refused.value.errors
    assert error.startswith("nodes.web1.checks[0].url: 'http")
    assert "%23, %2F, %3F" in error
    assert PASSWORD_TAIL not in error and "1234" not in error


def test_check_config_never_prints_the_password(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(web1_inventory(URLS[0])))
    result = lbhealth("check-config", "--explain", str(path))
    assert result.returncode == 2
    assert "url: 'http" in result.stderr and "***@web1" in result.stderr
    assert PASSWORD_TAIL not in result.stdout + result.stderr


def test_an_encoded_password_works_and_is_masked(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(web1_inventory(f"http://admin:1234%23{PASSWORD_TAIL}@web1/")))
    result = lbhealth("check-config", "--explain", str(path))
    assert result.returncode == 0, result.stderr
    assert "iis http://***@web1/" in result.stdout
    assert PASSWORD_TAIL not in result.stdout


def test_a_reload_refusing_the_url_quotes_no_password_in_answer_or_log(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(web1_inventory(sim({"/": IIS_WELCOME}).url("/"))))
    lb = lbhealth_server(path)
    path.write_text(yaml.safe_dump(web1_inventory(URLS[0])))
    with caplog.at_level(logging.INFO, logger="lbhealth"):
        answer = httpx.post(f"{lb.url}/admin/reload", headers=AUTH, timeout=10)
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert answer.status_code == 422
    assert "***@web1" in answer.text and "***@web1" in logged
    assert PASSWORD_TAIL not in answer.text + logged
