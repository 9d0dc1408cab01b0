"""Reading an inventory: YAML in, a validated :class:`Inventory` or every error with its path.

Presets are expanded first (:func:`lbhealth.config.presets.expand`), so the
checks a preset derives are validated by the same rules as hand-written ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from lbhealth.config.errors import ConfigError
from lbhealth.config.model import Inventory, InventoryFile, Settings
from lbhealth.config.presets import expand


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _format_errors(exc: ValidationError, prefix: str = "") -> list[str]:
    lines = []
    for err in exc.errors():
        # Drop pydantic's union/validator bookkeeping from the path.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        path = _format_loc(loc)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field; check the spelling (see docs/configuration.md)"
        elif err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "too_short":
            message = "needs at least one entry"
        lines.append(f"{path}: {message}" if path else message)
    return lines


def parse_inventory(data: object, source: str = "<inventory>") -> Inventory:
    """Validate an already-parsed YAML document; raise ConfigError with every problem."""
    if not isinstance(data, Mapping):
        raise ConfigError([f"{source}: the top level must be a mapping with 'nodes:'"])
    data = expand(data)
    errors: list[str] = []
    raw: InventoryFile | None = None
    try:
        raw = InventoryFile.model_validate(data)
    except ValidationError as exc:
        errors.extend(_format_errors(exc))
    settings_data = data.get("settings") or {}
    settings: Settings | None = None
    if isinstance(settings_data, Mapping):
        try:
            settings = Settings(**settings_data)
        except ValidationError as exc:
            errors.extend(_format_errors(exc, "settings"))
    if errors or raw is None or settings is None:
        raise ConfigError(errors)
    return Inventory(settings=settings, nodes=raw.nodes, source=source)


def load_inventory(path: str | Path) -> Inventory:
    """Read and validate an inventory file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{path}:{where}: invalid YAML: {problem}"]) from None
    return parse_inventory(data, str(path))
