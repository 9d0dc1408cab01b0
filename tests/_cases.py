"""Recorded HTTP answers ("cases") shared by interpreter and integration tests.

A case is a directory holding ``status``, ``headers`` (raw ``Name: value``
lines), ``body`` (raw bytes) and ``expect.json``; see ``tests/samples/README.md``.
``tests/samples`` holds the project's shared samples (copied into the
repository: no test reads outside it), ``tests/pages`` our own variants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lbhealth.demo.simserver import Page
from lbhealth.interpret import Answer

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"
OWN_PAGES = HERE / "pages"


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    expect: dict[str, Any] = field(default_factory=dict)

    def page(self) -> Page:
        """The case as a simulated backend's answer, bytes unchanged."""
        return Page(self.status, self.headers, self.body)


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
    """Every shared sample and every own variant."""
    return [load_case(p) for root in (SAMPLES, OWN_PAGES) for p in case_dirs(root)]


def own_page(name: str) -> Page:
    """One of our own recorded answers (``tests/pages/<name>``), ready to serve."""
    return load_case(OWN_PAGES / name).page()


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
