"""The one error a bad inventory, setting or state file raises: every problem, one line each."""

from __future__ import annotations


class ConfigError(Exception):
    """The inventory or settings are invalid; ``errors`` holds one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
