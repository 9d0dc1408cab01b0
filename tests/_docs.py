"""Reading the documentation the way a test needs it: its code blocks and its tables.

The tests run the docs' examples and compare the code with the docs' tables,
so that a page that stops being true fails a test rather than a user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests._process import ROOT

#: The pages a newcomer reads: the README and the reference under docs/.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    """One fenced code block: its page, its first line number, its language and text."""

    page: Path
    line: int
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(lang: str, pages: list[Path] = PAGES) -> list[Block]:
    """Every fenced block of that language in these pages, in order."""
    found = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            if match.group(1) == lang:
                line = text.count("\n", 0, match.start()) + 2
                found.append(Block(page, line, lang, match.group(2)))
    return found


def table(page: Path, first_header: str) -> list[list[str]]:
    """The rows of the Markdown table whose first header cell is ``first_header``."""
    rows: list[list[str]] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if _cells(line)[:1] == [first_header] and line.startswith("|"):
            for row in lines[number + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            return rows
    raise AssertionError(f"{page.name} has no table starting with {first_header!r}")


def _cells(line: str) -> list[str]:
    # A cell may contain `\|` (an escaped bar, e.g. in `up\|down`).
    parts = re.split(r"(?<!\\)\|", line.strip())
    return [p.strip().replace("\\|", "|") for p in parts[1:-1]]


def code_spans(cell: str) -> list[str]:
    """The `code` spans of a table cell, in order."""
    return re.findall(r"`([^`]+)`", cell)
