"""Recorded HTTP answers ("cases") shared by interpreter and integration tests.

A case is a directory holding ``status``, ``headers`` (raw ``Name: value``
lines), ``body`` (raw bytes) and ``expect.json``; see
``../shared/samples/README.md``. The shared samples live outside the repository,
our own variants in ``tests/pages``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lbhealth.interpret import Answer

SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
OWN_PAGES = Path(__file__).resolve().parent / "pages"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    expect: dict[str, Any] = field(default_factory=dict)


def load_case(path: Path) -> Case:
    """Read one case directory; header lines keep their order and repetitions."""
    headers: list[tuple[str, str]] = []
    for line in (path / "headers").read_text("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.append((name.strip(), value.strip()))
    return Case(
        name=path.name,
        status=int((path / "status").read_text().strip()),
        headers=headers,
        body=(path / "body").read_bytes(),
        expect=json.loads((path / "expect.json").read_text("utf-8")),
    )


def case_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "expect.json").is_file())


def all_cases() -> list[Case]:
    """Every shared sample and every own variant.

    Without the shared samples the suite would silently test much less: that
    fails under CI and skips locally.
    """
    if not SHARED_SAMPLES.is_dir():
        message = f"shared samples not found at {SHARED_SAMPLES}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message, allow_module_level=True)
    return [load_case(p) for root in (SHARED_SAMPLES, OWN_PAGES) for p in case_dirs(root)]


def answer(
    body: bytes | str,
    status: int = 200,
    content_type: str = "text/html; charset=UTF-8",
    *,
    server: str | None = None,
    truncated: bool = False,
) -> Answer:
    """A hand-made answer for focused tests; ``str`` bodies are sent as UTF-8."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    headers = [("Content-Type", content_type)] + ([("Server", server)] if server else [])
    return Answer(status, headers, raw, truncated)
